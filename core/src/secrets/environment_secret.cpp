#include <junction/core/secrets/environment_secret.hpp>

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>

extern char** environ;

namespace junction::core {

std::optional<std::string> take_environment_secret(const char* name) {
    const size_t name_len = std::strlen(name);
    char* entry = nullptr;  // "NAME=value"
    for (char** e = environ; e && *e; ++e)
        if (std::strncmp(*e, name, name_len) == 0 && (*e)[name_len] == '=') entry = *e;
    if (!entry) return std::nullopt;
    std::string value(entry + name_len + 1);
    ::unsetenv(name);  // takes the pointer out of `environ`; the bytes stay where they were
    OPENSSL_cleanse(entry, std::strlen(entry));
    return value;
}

}  // namespace junction::core
