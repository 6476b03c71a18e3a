# The two commands of the README. Both install what is missing first.
MAKEFLAGS += --no-print-directory
.PHONY: setup build demo test install abi-baseline clean

setup:
	@bash scripts/setup.sh

build: setup
	@cmake --preset default >/dev/null
	@cmake --build --preset default

demo: build
	@bash scripts/demo.sh

test: build
	@ctest --preset default

# junctiond as a service: programs, systemd unit, /etc/junction, /var/lib/junction.
install: build
	@bash scripts/install.sh

# Regenerates the committed ABI baseline: only for a deliberate, versioned ABI change.
abi-baseline: build
	@bash plugin_api/abi/check.sh --update build

clean:
	rm -rf build
