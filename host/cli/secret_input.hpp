// Reading credentials for the CLI without echoing them: from a prompt with the terminal's
// echo turned off, from standard input when it is not a terminal, or from a file.
#pragma once

#include <string>

namespace junction::cli {

// Prompts "<field>: " on the terminal (echo off) or reads one line from piped stdin.
std::string read_secret(const std::string& field);

// The file's content without its trailing newline. Throws std::runtime_error.
std::string read_secret_file(const std::string& path);

}  // namespace junction::cli
