#include "secret_input.hpp"

#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>

namespace junction::cli {

std::string read_secret(const std::string& field) {
    std::string value;
    if (::isatty(STDIN_FILENO)) {
        std::cerr << field << ": " << std::flush;
        termios old{};
        ::tcgetattr(STDIN_FILENO, &old);
        termios silent = old;
        silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &silent);
        std::getline(std::cin, value);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::cerr << "\n";
    } else if (!std::getline(std::cin, value)) {
        throw std::runtime_error("no value for secret field '" + field + "' on standard input");
    }
    if (!value.empty() && value.back() == '\r') value.pop_back();
    return value;
}

std::string read_secret_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read secret file " + path);
    std::string value(std::istreambuf_iterator<char>(in), {});
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
}

}  // namespace junction::cli
