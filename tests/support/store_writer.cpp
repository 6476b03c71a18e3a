// store_writer DB: writes instances to the store as fast as it can, printing "acked N"
// after each write has returned (committed), until it is killed. The crash test kills it
// at random moments and checks that every acknowledged write survived.
#include <junction/core/store/store.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: store_writer DB\n");
        return 2;
    }
    auto store = junction::core::open_sqlite_store(argv[1]);
    for (size_t n = store->count_instances();; ++n) {
        junction::core::InstanceRecord r;
        r.id = "inst_" + std::to_string(n);
        r.name = "w" + std::to_string(n);
        r.connector = "shopify";
        r.auth_method = "token";
        r.settings_json = R"({"shop":"store-)" + std::to_string(n) + R"("})";
        r.secrets = {{"token", std::string(12, 'n'), std::string(64, 'c')},
                     {"password", std::string(12, 'm'), std::string(48, 'd')}};
        store->insert_instance(r);  // instance and secrets in one transaction
        store->state_set(r.id, "cursor", std::to_string(n));
        std::printf("acked %zu\n", n);
        std::fflush(stdout);
    }
}
