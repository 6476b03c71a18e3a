// Files on their way into the state directory: hashed, copied durably, never half-written.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace junction::core {

// A connector definition (NAME.connector.json, run by an engine) rather than a library.
bool is_definition_package(const std::filesystem::path& file);

// Lower-case hex SHA-256 of a file's bytes.
std::string sha256_file(const std::filesystem::path& file);

// Copies `source` to `dest` so that `dest` is either absent or complete: a temporary file
// beside it, fsync, rename, fsync of the folder. Returns the SHA-256 of what was copied.
std::string copy_file_durably(const std::filesystem::path& source,
                              const std::filesystem::path& dest);
// The same for bytes in memory (an uploaded package).
std::string write_bytes_durably(std::string_view bytes, const std::filesystem::path& dest);

// Renames durably (rename + fsync of the destination folder), creating the folder.
void rename_durably(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace junction::core
