#include "postgres_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <stdexcept>

namespace junction::testing {

namespace {

constexpr uid_t kNobody = 65534;  // Debian's nobody:nogroup

// The newest server Debian installed: /usr/lib/postgresql/<major>/bin.
std::filesystem::path server_bin_dir() {
    std::filesystem::path best;
    int best_major = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
        const int major = std::atoi(entry.path().filename().c_str());
        if (major > best_major && std::filesystem::exists(entry.path() / "bin" / "postgres")) {
            best_major = major;
            best = entry.path() / "bin";
        }
    }
    if (best.empty())
        throw std::runtime_error("no PostgreSQL server under /usr/lib/postgresql: run scripts/setup.sh (it installs postgresql)");
    return best;
}

// A loopback port nobody listens on now (the kernel's choice).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("no free loopback port for PostgreSQL");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

std::string random_password() {
    static const char kAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::random_device rd;
    std::string password;
    for (int i = 0; i < 24; ++i) password += kAlphabet[rd() % (sizeof kAlphabet - 1)];
    return password;
}

void give_to_server_user(const std::filesystem::path& path) {
    if (::geteuid() == 0 && ::chown(path.c_str(), kNobody, kNobody) != 0)
        throw std::runtime_error("cannot give " + path.string() + " to nobody");
}

}  // namespace

std::vector<std::string> PostgresServer::as_server_user(std::vector<std::string> argv) const {
    if (::geteuid() != 0) return argv;
    std::vector<std::string> wrapped{"/usr/bin/setpriv", "--reuid=" + std::to_string(kNobody),
                                     "--regid=" + std::to_string(kNobody), "--clear-groups", "--"};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    return wrapped;
}

PostgresServer::PostgresServer() : bin_(server_bin_dir()), log_(dir_ / "server.log"), password_(random_password()) {
    std::filesystem::permissions(dir_.path(), std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
    give_to_server_user(dir_.path());
    const auto pwfile = dir_ / "pwfile";
    write_file(pwfile, password_ + "\n");
    give_to_server_user(pwfile);
    const auto initdb = run_program(as_server_user({(bin_ / "initdb").string(), "-D", (dir_ / "data").string(), "-U",
                                                    "junction", "--pwfile", pwfile.string(), "--auth-local=trust",
                                                    "--auth-host=scram-sha-256", "--locale=C", "-E", "UTF8"}));
    std::filesystem::remove(pwfile);
    if (initdb.exit_code != 0) throw std::runtime_error("initdb failed:\n" + initdb.output);
    // A server may lose a port to another test between free_port() and its bind: try again.
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        server_ = std::make_unique<ChildProcess>(
            as_server_user({(bin_ / "postgres").string(), "-D", (dir_ / "data").string(), "-p", std::to_string(port_), "-c",
                            "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir_.path().string(), "-c",
                            "fsync=off", "-c", "max_connections=200"}),
            log_);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline && server_->running()) {
            if (read_text(log_).find("database system is ready to accept connections") != std::string::npos) return;
            if (server_->wait(std::chrono::milliseconds(50)) != -1 || !server_->running()) break;  // it exited
        }
        if (read_text(log_).find("could not bind") == std::string::npos) break;
        server_.reset();
    }
    throw std::runtime_error("the PostgreSQL server did not start:\n" + read_text(log_));
}

PostgresServer::~PostgresServer() {
    if (!server_ || !server_->running()) return;
    server_->signal(SIGINT);  // fast shutdown: sessions end, the server checkpoints and exits
    if (server_->wait(std::chrono::seconds(20)) == -1 && server_->running()) server_->signal(SIGQUIT);
    server_->wait(std::chrono::seconds(5));
}

std::string PostgresServer::url(const std::string& database) const {
    return "postgresql://junction@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

void PostgresServer::create_database(const std::string& name) const { sql("CREATE DATABASE \"" + name + "\""); }

std::string PostgresServer::sql(const std::string& statement, const std::string& database) const {
    const auto result = run_program({(bin_ / "psql").string(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                                     dir_.path().string(), "-p", std::to_string(port_), "-U", "junction", "-d", database,
                                     "-c", statement});
    if (result.exit_code != 0) throw std::runtime_error("psql: " + result.output);
    std::string rows = result.output;
    while (!rows.empty() && rows.back() == '\n') rows.pop_back();
    return rows;
}

}  // namespace junction::testing
