// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction, and the
// small file helpers tests use on what they write there.
#pragma once

#include <filesystem>
#include <string>

namespace ledger::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The whole file as bytes ("" if it cannot be read).
std::string read_text(const std::filesystem::path& path);
// The permission bits (e.g. 0600); a gtest failure if the file cannot be stat'ed.
unsigned mode_of(const std::filesystem::path& path);

}  // namespace ledger::testing
