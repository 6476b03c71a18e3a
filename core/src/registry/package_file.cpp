#include <junction/core/registry/package_file.hpp>

#include <junction/core/common/error.hpp>

#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <random>

namespace junction::core {

namespace fs = std::filesystem;

namespace {

struct Fd {
    int fd = -1;
    ~Fd() { if (fd >= 0) ::close(fd); }
};

struct DigestDeleter { void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); } };
using Digest = std::unique_ptr<EVP_MD_CTX, DigestDeleter>;

Digest new_sha256() {
    Digest ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw Error(Errc::internal, "OpenSSL could not start a SHA-256 digest");
    return ctx;
}

std::string finish_hex(EVP_MD_CTX* ctx) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 0xf]);
    }
    return out;
}

[[noreturn]] void io_error(const std::string& what, const fs::path& path) {
    throw Error(Errc::io, what + ": " + std::strerror(errno), path.string());
}

void fsync_dir(const fs::path& dir) {
    Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY)};
    if (d.fd < 0 || ::fsync(d.fd) != 0) io_error("cannot fsync folder", dir);
}

// Streams `source` through the digest, and into `out_fd` when it is >= 0.
std::string hash_and_copy(const fs::path& source, int out_fd, const fs::path& out_path) {
    Fd in{::open(source.c_str(), O_RDONLY | O_CLOEXEC)};
    if (in.fd < 0) io_error("cannot open", source);
    Digest ctx = new_sha256();
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(in.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) io_error("cannot read", source);
        if (n == 0) break;
        EVP_DigestUpdate(ctx.get(), buf, static_cast<size_t>(n));
        for (ssize_t done = 0; out_fd >= 0 && done < n;) {
            const ssize_t w = ::write(out_fd, buf + done, static_cast<size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) io_error("cannot write", out_path);
            done += w;
        }
    }
    return finish_hex(ctx.get());
}

}  // namespace

std::string sha256_file(const fs::path& file) { return hash_and_copy(file, -1, {}); }

namespace {

// Writes a file beside `dest` through `fill` (which returns the SHA-256 of what it wrote),
// fsyncs it and renames it into place: `dest` is either absent or complete.
template <typename Fill>
std::string write_durably(const fs::path& dest, Fill fill) {
    fs::create_directories(dest.parent_path());
    const fs::path tmp = dest.parent_path() /
                         (".tmp-" + dest.filename().string() + "-" +
                          std::to_string(std::random_device{}()));
    std::string sha;
    {
        Fd out{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)};
        if (out.fd < 0) io_error("cannot create", tmp);
        try {
            sha = fill(out.fd, tmp);
            if (::fsync(out.fd) != 0) io_error("cannot fsync", tmp);
        } catch (...) {
            ::unlink(tmp.c_str());
            throw;
        }
    }
    if (::rename(tmp.c_str(), dest.c_str()) != 0) {
        ::unlink(tmp.c_str());
        io_error("cannot rename into place", dest);
    }
    fsync_dir(dest.parent_path());
    return sha;
}

}  // namespace

std::string copy_file_durably(const fs::path& source, const fs::path& dest) {
    return write_durably(dest, [&](int fd, const fs::path& tmp) { return hash_and_copy(source, fd, tmp); });
}

std::string write_bytes_durably(std::string_view bytes, const fs::path& dest) {
    return write_durably(dest, [&](int fd, const fs::path& tmp) {
        Digest ctx = new_sha256();
        EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size());
        for (size_t done = 0; done < bytes.size();) {
            const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) io_error("cannot write", tmp);
            done += static_cast<size_t>(w);
        }
        return finish_hex(ctx.get());
    });
}

void rename_durably(const fs::path& from, const fs::path& to) {
    fs::create_directories(to.parent_path());
    if (::rename(from.c_str(), to.c_str()) != 0) io_error("cannot rename " + from.string(), to);
    fsync_dir(to.parent_path());
}

bool is_definition_package(const std::filesystem::path& file) {
    return file.filename().string().ends_with(".connector.json");
}

}  // namespace junction::core
