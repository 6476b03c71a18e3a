// Crash safety: a process writing to the store is killed with SIGKILL at random moments.
// Each time the store must open, pass PRAGMA integrity_check, and hold every write the
// writer acknowledged, secrets and state included.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "child_process.hpp"
#include "test_paths.hpp"

#include <junction/core/store/store.hpp>

#include <csignal>
#include <random>
#include <sstream>
#include <thread>

using namespace junction::core;
using namespace junction::testing;
using namespace std::chrono_literals;

namespace {
// Every N of the "acked N" lines.
std::vector<long> acked_writes(const std::string& output) {
    std::istringstream in(output);
    std::string word;
    long n = -1;
    std::vector<long> out;
    while (in >> word)
        if (word == "acked" && in >> n) out.push_back(n);
    return out;
}
}  // namespace

TEST_CASE("SIGKILL during a stream of writes loses no acknowledged write") {
    TempDir dir;
    const auto db = dir / "junction.db";
    std::mt19937 rng(20261127);
    std::vector<long> acked;  // across all rounds
    for (int round = 0; round < 8; ++round) {
        CAPTURE(round);
        const auto log = dir / ("writer-" + std::to_string(round) + ".log");
        {
            ChildProcess writer({(bin_dir() / "store_writer").string(), db.string()}, log);
            // Once it has acknowledged a write (a slow start under a sanitizer or a busy
            // machine is not what this tests), let it write for a random while, then kill
            // it mid-stream.
            const auto give_up = std::chrono::steady_clock::now() + 30s;
            while (acked_writes(read_text(log)).empty() && std::chrono::steady_clock::now() < give_up)
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
            writer.signal(SIGKILL);
            CHECK(writer.wait(5s) == -1);
        }
        const auto this_round = acked_writes(read_text(log));
        REQUIRE_FALSE(this_round.empty());  // it made progress before the kill
        acked.insert(acked.end(), this_round.begin(), this_round.end());

        auto store = open_sqlite_store(db);
        CHECK(store->integrity_check() == "ok");
        for (long n : acked) {
            const auto r = store->find_instance("w" + std::to_string(n));
            if (!r) FAIL("acknowledged write w" << n << " is missing");
            CHECK(r->secrets.size() == 2);
            CHECK(store->state_get(r->id, "cursor") == std::to_string(n));
        }
        MESSAGE("round " << round << ": " << acked.size() << " writes acknowledged, all present");
    }
}
