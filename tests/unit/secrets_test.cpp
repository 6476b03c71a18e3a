// Sealing, the master key's rules, and rotation.
#include <doctest/doctest.h>

#include "test_paths.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/instances/store_instance_state.hpp>
#include <junction/core/secrets/instance_secrets.hpp>
#include <junction/core/secrets/master_key.hpp>

#include <sys/stat.h>

using namespace junction::core;
using namespace junction::testing;
namespace fs = std::filesystem;

namespace {
const std::string kHexKey(64, 'a');
const std::string kOtherHexKey = std::string(63, 'b') + "c";

InstanceRecord with_secret(SecretBox& box, const std::string& id, const std::string& value) {
    InstanceRecord r;
    r.id = id;
    r.name = id;
    r.connector = "c";
    r.auth_method = "token";
    r.secrets = {box.seal(id, "token", value)};
    return r;
}

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
}
}  // namespace

TEST_CASE("a sealed value opens only with its key, instance and field") {
    SecretBox box(parse_master_key(kHexKey, "test"));
    const SealedSecret s = box.seal("inst_1", "token", "shpat_123");
    CHECK(s.ciphertext.find("shpat_123") == std::string::npos);
    CHECK(box.open("inst_1", s) == "shpat_123");
    CHECK(box.seal("inst_1", "token", "shpat_123").nonce != s.nonce);  // fresh nonce each time

    CHECK_THROWS_AS(box.open("inst_2", s), Error);  // moved to another instance
    SealedSecret other_field = s;
    other_field.field = "password";
    CHECK_THROWS_AS(box.open("inst_1", other_field), Error);
    SealedSecret tampered = s;
    tampered.ciphertext[0] ^= 1;
    CHECK_THROWS_AS(box.open("inst_1", tampered), Error);
    SecretBox wrong(parse_master_key(kOtherHexKey, "test"));
    CHECK_THROWS_WITH_AS(wrong.open("inst_1", s), doctest::Contains("cannot be decrypted"), Error);
}

TEST_CASE("master keys parse from hex or base64, and bad text never echoes") {
    CHECK_NOTHROW(parse_master_key(kHexKey, "x"));
    CHECK_NOTHROW(parse_master_key("qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=", "x"));
    try {
        parse_master_key("not-a-key-hunter2", "JUNCTION_MASTER_KEY");
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
        CHECK(std::string(e.what()).find("openssl rand -hex 32") != std::string::npos);
    }
}

TEST_CASE("first start creates a 0600 key file; later starts reuse it") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    const KeySource src{dir / "master.key", ""};
    SecretBox box = open_secret_box(*store, src);
    CHECK(fs::exists(src.key_file));
    CHECK(mode_of(src.key_file) == 0600);
    store->insert_instance(with_secret(box, "i1", "v1"));
    SecretBox again = open_secret_box(*store, src);
    CHECK(again.open("i1", store->find_instance("i1")->secrets[0]) == "v1");
}

TEST_CASE("a wrong or missing key is refused and destroys nothing") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    const KeySource file_src{dir / "master.key", ""};
    SecretBox box = open_secret_box(*store, file_src);
    store->insert_instance(with_secret(box, "i1", "precious"));
    const auto sealed_before = store->find_instance("i1")->secrets[0].ciphertext;
    const std::string key_text = read_text(file_src.key_file);

    CHECK_THROWS_WITH_AS(open_secret_box(*store, {file_src.key_file, kOtherHexKey}),
                         doctest::Contains("is not the key this store's credentials were encrypted with"),
                         Error);
    fs::remove(file_src.key_file);
    CHECK_THROWS_WITH_AS(open_secret_box(*store, file_src),
                         doctest::Contains("Junction will not create a new key"), Error);
    CHECK_FALSE(fs::exists(file_src.key_file));  // no new key was made

    // Nothing was damaged: with the original key back, the credential opens.
    write_file(file_src.key_file, key_text);
    ::chmod(file_src.key_file.c_str(), 0600);
    CHECK(store->find_instance("i1")->secrets[0].ciphertext == sealed_before);
    CHECK(open_secret_box(*store, file_src).open("i1", store->find_instance("i1")->secrets[0]) == "precious");
}

TEST_CASE("the key can come from JUNCTION_MASTER_KEY") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    const KeySource env_src{dir / "master.key", kHexKey};
    SecretBox box = open_secret_box(*store, env_src);
    CHECK_FALSE(fs::exists(env_src.key_file));  // the environment's key is not written out
    store->insert_instance(with_secret(box, "i1", "v"));
    CHECK_NOTHROW(open_secret_box(*store, env_src));
    CHECK_THROWS_AS(open_secret_box(*store, {env_src.key_file, kOtherHexKey}), Error);
}

TEST_CASE("rotation re-encrypts everything; an interrupted rotation is finished on start") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    const KeySource src{dir / "master.key", ""};
    SecretBox old_box = open_secret_box(*store, src);
    for (int i = 0; i < 5; ++i) store->insert_instance(with_secret(old_box, "i" + std::to_string(i), "v" + std::to_string(i)));
    const std::string old_key = read_text(src.key_file);

    SecretBox new_box = rotate_master_key(*store, src, old_box);
    CHECK(read_text(src.key_file) != old_key);
    CHECK(mode_of(src.key_file) == 0600);
    CHECK_FALSE(fs::exists(dir / "master.key.next"));
    for (int i = 0; i < 5; ++i) {
        const auto r = *store->find_instance("i" + std::to_string(i));
        CHECK(new_box.open(r.id, r.secrets[0]) == "v" + std::to_string(i));
        CHECK_THROWS(old_box.open(r.id, r.secrets[0]));
    }
    CHECK_NOTHROW(open_secret_box(*store, src));

    // A crash after the store committed but before the key file was renamed.
    fs::rename(src.key_file, dir / "master.key.next");
    write_file(src.key_file, old_key);
    SecretBox recovered = open_secret_box(*store, src);
    CHECK(recovered.open("i3", store->find_instance("i3")->secrets[0]) == "v3");
    CHECK_FALSE(fs::exists(dir / "master.key.next"));

    // With the key in the environment, rotation needs the new key and writes no file.
    const KeySource env_src{dir / "env.key", read_text(src.key_file)};
    CHECK_THROWS_AS(rotate_master_key(*store, env_src, recovered), Error);
    SecretBox env_box = rotate_master_key(*store, env_src, recovered, kHexKey);
    CHECK(env_box.open("i0", store->find_instance("i0")->secrets[0]) == "v0");
    CHECK_FALSE(fs::exists(dir / "env.key"));
}

TEST_CASE("a credential the connector rotates: compare-and-set, outlives writes of the record, yields to an operator's") {
    TempDir dir;
    auto store = open_sqlite_store(dir / "j.db");
    SecretBox box(parse_master_key(kHexKey, "test"));
    InstanceRecord r = with_secret(box, "inst_1", "refresh-1");
    store->insert_instance(r);
    StoreInstanceState state(*store, box, "inst_1", {"token"});
    std::string value;

    CHECK(state.swap_credential("token", "refresh-1", "refresh-2") == JN_OK);
    CHECK(state.swap_credential("token", "refresh-1", "refresh-3") == JN_ERR_CONFLICT);  // spent: read again
    CHECK(state.credential("token", value) == JN_OK);
    CHECK(value == "refresh-2");
    CHECK(state.swap_credential("token", "refresh-2", "refresh-3") == JN_OK);
    CHECK(state.swap_credential("label", "", "x") == JN_ERR_INVALID_REQUEST);  // not a credential
    CHECK(state.credential("label", value) == JN_ERR_INVALID_REQUEST);

    // A write of the record that re-seals the same configured value (a PATCH of another
    // field, a migration) keeps the rotation, and conflicts with nothing.
    auto read = store->find_instance("inst_1");
    REQUIRE(read);
    CHECK(read->rotated.size() == 1);
    read->secrets = {box.seal("inst_1", "token", "refresh-1")};
    store->update_instance(*read);
    CHECK(state.credential("token", value) == JN_OK);
    CHECK(value == "refresh-3");
    CHECK(open_instance_secrets(box, *store->find_instance("inst_1")).at(0).second.view() == "refresh-3");

    // The master key rotation re-seals the rotation with the rest.
    SecretBox next(parse_master_key(kOtherHexKey, "test"));
    store->reseal_all_secrets(
        [&](const std::string& id, const SealedSecret& sealed) { return next.seal(id, sealed.field, box.open(id, sealed)); },
        {});
    StoreInstanceState after(*store, next, "inst_1", {"token"});
    CHECK(after.credential("token", value) == JN_OK);
    CHECK(value == "refresh-3");

    // An operator who types a new value has re-authorised: it wins over the rotation.
    read = store->find_instance("inst_1");
    read->secrets = {next.seal("inst_1", "token", "typed-by-hand")};
    store->update_instance(*read);
    CHECK(after.credential("token", value) == JN_OK);
    CHECK(value == "typed-by-hand");
    CHECK(after.swap_credential("token", "refresh-3", "refresh-4") == JN_ERR_CONFLICT);
    CHECK(after.swap_credential("token", "typed-by-hand", "refresh-5") == JN_OK);
    CHECK(after.credential("token", value) == JN_OK);
    CHECK(value == "refresh-5");

    // A version switch that configures another value (a snapshot restored on rollback, a
    // migration) is no operator re-authorising: the rotation is carried onto it.
    read = store->find_instance("inst_1");
    read->secrets = {next.seal("inst_1", "token", "from-the-snapshot")};
    store->commit_version_switch({"c", "1.0.0", "2.0.0", "manual", ""}, {*read}, {},
                                 {0, "c", "rollback", "2.0.0", "1.0.0", "t", 1, "done", ""},
                                 [&](const std::string& id, const std::optional<SealedSecret>& before,
                                     const std::optional<SealedSecret>& now, const RotatedSecret& rotation) {
                                     return rebase_rotation(next, id, before, now, rotation);
                                 });
    CHECK(after.credential("token", value) == JN_OK);
    CHECK(value == "refresh-5");
}
