#include <junction/core/secrets/master_key.hpp>
#include <junction/core/secrets/environment_secret.hpp>

#include <junction/core/common/error.hpp>
#include <junction/core/common/log.hpp>
#include <junction/core/secrets/clear_text.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

constexpr const char* kKeyCheck = "master_key_check";

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string to_hex(const MasterKey& key) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char b : key) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 0xf]);
    }
    return out;
}

MasterKey random_key() {
    MasterKey key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
        throw Error(Errc::internal, "OpenSSL could not produce a random master key");
    return key;
}

// Writes the key file with 0600 permissions, durably, never half-written.
void write_key_file(const fs::path& file, const MasterKey& key) {
    const fs::path tmp = file.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw Error(Errc::io, "cannot create the master key file", tmp.string());
    std::string text = to_hex(key) + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                    ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
    OPENSSL_cleanse(text.data(), text.size());
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0)
        throw Error(Errc::io, "cannot write the master key file", file.string());
    const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

MasterKey read_key_file(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
        log_warn("secrets", "the master key file " + file.string() +
                                " is readable by other users; run: chmod 600 " + file.string());
    std::ifstream in(file);
    std::string text;
    std::getline(in, text);
    MasterKey key = parse_master_key(trim(text), file.string());
    OPENSSL_cleanse(text.data(), text.size());
    return key;
}

std::string missing_key_help(const KeySource& s) {
    return "restore " + s.key_file.string() +
           " from your backup, or set JUNCTION_MASTER_KEY to the key this state directory was "
           "created with. Nothing was changed";
}

}  // namespace

KeySource key_source_for(const fs::path& state_dir) {
    return {state_dir / "master.key", take_environment_secret("JUNCTION_MASTER_KEY").value_or("")};
}

MasterKey parse_master_key(std::string_view text, std::string_view where) {
    MasterKey key{};
    const auto fail = [&] {
        return Error(Errc::invalid_argument,
                     std::string(where) +
                         " does not hold a master key: expected 32 bytes as 64 hex digits or as "
                         "base64 (generate one with: openssl rand -hex 32)");
    };
    if (text.size() == 64) {
        for (size_t i = 0; i < 32; ++i) {
            auto nibble = [&](char c) -> int {
                if (c >= '0' && c <= '9') return c - '0';
                if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                return -1;
            };
            const int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
            if (hi < 0 || lo < 0) throw fail();
            key[i] = static_cast<unsigned char>(hi << 4 | lo);
        }
        return key;
    }
    if (text.size() == 44) {  // base64 of 32 bytes, with one '=' of padding
        unsigned char out[48];
        const int n = EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(text.data()), 44);
        if (n != 33 || text.back() != '=') throw fail();  // 33 = 32 bytes + the padding
        std::copy(out, out + 32, key.begin());
        OPENSSL_cleanse(out, sizeof out);
        return key;
    }
    throw fail();
}

SecretBox open_secret_box(Store& store, const KeySource& source) {
    const std::optional<std::string> check = store.meta_get(kKeyCheck);
    const fs::path next = source.key_file.string() + ".next";

    MasterKey key{};
    if (!source.env_value.empty()) {
        key = parse_master_key(trim(source.env_value), "JUNCTION_MASTER_KEY");
    } else if (fs::exists(next) && check && SecretBox(read_key_file(next)).matches_key_check(*check)) {
        // A rotation committed but did not rename its key file: finish it.
        fs::rename(next, source.key_file);
        log_warn("secrets", "finished an interrupted master key rotation");
        key = read_key_file(source.key_file);
    } else if (fs::exists(source.key_file)) {
        key = read_key_file(source.key_file);
    } else if (check) {
        throw Error(Errc::invalid_argument,
                    "the master key file " + source.key_file.string() +
                        " is missing, but the store holds credentials encrypted with a master "
                        "key. Junction will not create a new key: that would make every stored "
                        "credential unreadable. " + missing_key_help(source));
    } else {
        key = random_key();
        write_key_file(source.key_file, key);
        log_info("secrets", "created a new master key in " + source.key_file.string() +
                                " (0600); back it up: without it the stored credentials "
                                "cannot be read");
    }
    if (fs::exists(next)) {  // still here: a rotation that never committed
        std::error_code ec;
        fs::remove(next, ec);
    }

    SecretBox box(key);
    OPENSSL_cleanse(key.data(), key.size());
    if (check) {
        if (!box.matches_key_check(*check))
            throw Error(Errc::invalid_argument,
                        "the master key (" +
                            std::string(source.env_value.empty() ? source.key_file.string()
                                                                 : "JUNCTION_MASTER_KEY") +
                            ") is not the key this store's credentials were encrypted with. " +
                            missing_key_help(source));
    } else {
        store.meta_set(kKeyCheck, box.make_key_check());
    }
    return box;
}

SecretBox rotate_master_key(Store& store, const KeySource& source, const SecretBox& current,
                            const std::optional<std::string>& new_key_text) {
    const bool from_env = !source.env_value.empty();
    if (from_env && !new_key_text)
        throw Error(Errc::invalid_argument,
                    "the master key comes from JUNCTION_MASTER_KEY: give the new key (set "
                    "JUNCTION_NEW_MASTER_KEY), then update JUNCTION_MASTER_KEY after the rotation");
    MasterKey key = new_key_text ? parse_master_key(trim(*new_key_text), "the new master key")
                                 : random_key();
    SecretBox next_box(key);
    const fs::path next = source.key_file.string() + ".next";
    if (!from_env) write_key_file(next, key);
    OPENSSL_cleanse(key.data(), key.size());

    // Instances' secrets and the snapshots' (a rollback restores those) in one transaction:
    // a value left sealed with the old key could never be opened again.
    const size_t count = store.reseal_all_secrets(
        [&](const std::string& id, const SealedSecret& sealed) {
            const ClearText clear(current.open(id, sealed));
            return next_box.seal(id, sealed.field, clear.view());
        },
        {{kKeyCheck, next_box.make_key_check()}});
    if (!from_env) fs::rename(next, source.key_file);
    log_info("secrets", "master key rotated; " + std::to_string(count) + " sealed value(s) re-encrypted");
    return next_box;
}

}  // namespace junction::core
