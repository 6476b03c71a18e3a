#include "admin_token.hpp"

#include <junction/core/common/error.hpp>
#include <junction/core/common/log.hpp>

#include <openssl/rand.h>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

namespace junction::daemon {

std::string load_or_create_admin_token(const std::filesystem::path& state_dir) {
    const auto file = state_dir / "admin.token";
    if (std::filesystem::exists(file)) {
        std::ifstream in(file);
        std::string token;
        std::getline(in, token);
        if (token.size() < 32)
            throw core::Error(core::Errc::invalid_argument,
                              "the admin token file is empty or too short; delete it to have a "
                              "new one created",
                              file.string());
        return token;
    }
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1)
        throw core::Error(core::Errc::internal, "OpenSSL could not produce random bytes");
    static const char* hex = "0123456789abcdef";
    std::string token;
    for (unsigned char b : raw) {
        token.push_back(hex[b >> 4]);
        token.push_back(hex[b & 0xf]);
    }
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const std::string line = token + "\n";
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
        ::fsync(fd) != 0)
        throw core::Error(core::Errc::io, "cannot write the admin token", file.string());
    ::close(fd);
    // Standard output is the journal under the shipped unit: it names the file, never the
    // token. Only an operator at a terminal sees the token itself, to copy it.
    std::cout << "junctiond: created the admin API token in " << file.string()
              << " (0600); the junction CLI reads it from there\n";
    if (::isatty(STDOUT_FILENO)) std::cout << "junctiond: the admin API token is " << token << "\n";
    std::cout << std::flush;
    return token;
}

void record_admin_address(const std::filesystem::path& state_dir, const std::string& url) {
    const auto file = state_dir / "admin.url";
    const auto part = state_dir / "admin.url.part";
    const std::string line = url + "\n";
    const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const bool written = fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    if (fd >= 0) ::close(fd);
    std::error_code ec;
    if (written) std::filesystem::rename(part, file, ec);
    if (!written || ec)
        core::log_warn("junctiond", "cannot write " + file.string() + " (the CLI then needs --url to find this "
                                    "daemon): " + (ec ? ec.message() : std::string("write failed")));
}

}  // namespace junction::daemon
