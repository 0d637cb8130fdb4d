// Byte strings and their hex form.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/core/status.h"

namespace ledger {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Lowercase hex, two characters per byte.
std::string to_hex(ByteView bytes);

// Decodes hex of either case. Fails with kInvalidArgument on an odd length or a character
// outside [0-9a-fA-F]; the message names the offending position.
StatusOr<Bytes> from_hex(std::string_view hex);

// Decodes exactly N bytes of hex; fails if the length is not 2*N.
template <std::size_t N>
StatusOr<std::array<std::uint8_t, N>> from_hex_fixed(std::string_view hex) {
  if (hex.size() != 2 * N) {
    return Status::invalid_argument("expected " + std::to_string(2 * N) + " hex characters, got " +
                                    std::to_string(hex.size()));
  }
  LEDGER_ASSIGN_OR_RETURN(Bytes bytes, from_hex(hex));
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = bytes[i];
  return out;
}

}  // namespace ledger
