# The two commands of the README. Both install what is missing first.
MAKEFLAGS += --no-print-directory
.PHONY: setup build demo test check-secrets test-hardening test-default test-asan test-tsan test-fuzz install abi-baseline clean

setup:
	@bash scripts/setup.sh

build: setup
	@cmake --preset default >/dev/null
	@cmake --build --preset default

demo: build
	@bash scripts/demo.sh

# Every test: the shipped build, then the suite under ASan+UBSan, each fuzz target briefly,
# and the threaded tests under TSan. Each pass builds only what it runs, in its own folder;
# each can run alone (test-hardening: the three after the shipped build).
test: check-secrets test-default test-asan test-fuzz test-tsan
	@echo "make test: every pass passed; finished $$(date +%T)"

test-hardening: test-asan test-fuzz test-tsan

# No private key, token or store under version control (first: it takes a second).
check-secrets:
	@bash scripts/check_no_secrets.sh

test-default: build
	@echo "test-default: ctest --preset default (build/); started $$(date +%T)"
	@ctest --preset default

test-asan: setup
	@echo "test-asan: the whole tree with AddressSanitizer + UBSan, every test but the out-of-tree SDK builds (build-asan/); started $$(date +%T)"
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan
	@ctest --preset asan

test-tsan: setup
	@echo "test-tsan: hot-swap, instance-runtime, flow and cluster tests with ThreadSanitizer (build-tsan/); started $$(date +%T)"
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan
	@ctest --preset tsan

test-fuzz: setup
	@echo "test-fuzz: each libFuzzer target for 20 s on its seed corpus (build-fuzz/); started $$(date +%T)"
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz
	@bash tests/fuzz/run_fuzzers.sh build-fuzz 20

# junctiond as a service: programs, systemd unit, /etc/junction, /var/lib/junction.
install: build
	@bash scripts/install.sh

# Regenerates the committed ABI baseline: only for a deliberate, versioned ABI change.
abi-baseline: build
	@bash plugin_api/abi/check.sh --update build

clean:
	rm -rf build build-asan build-tsan build-fuzz
