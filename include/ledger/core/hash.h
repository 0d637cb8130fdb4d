// SHA-256 and the 32-byte Hash type used for block ids, transaction hashes and roots.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/core/bytes.h"

namespace ledger {

struct Hash {
  static constexpr std::size_t kSize = 32;
  std::array<std::uint8_t, kSize> bytes{};  // all zero means "no hash" (e.g. genesis parent)

  bool is_zero() const;
  std::string hex() const { return to_hex(bytes); }
  // Parses exactly 64 hex characters.
  static StatusOr<Hash> from_hex(std::string_view hex);

  friend auto operator<=>(const Hash&, const Hash&) = default;
};

// SHA-256 of `data` (OpenSSL EVP).
Hash sha256(ByteView data);

// Incremental SHA-256. Not thread-safe; one instance per computation.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& update(ByteView data);
  Hash finish();  // the instance must not be used afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct HashHasher {
  std::size_t operator()(const Hash& h) const {
    std::size_t out = 0;
    for (std::size_t i = 0; i < sizeof(out); ++i)
      out = (out << 8) | h.bytes[i];
    return out;
  }
};

}  // namespace ledger
