#include "support/test_keys.h"

#include <gtest/gtest.h>

#include <array>

namespace ledger::testing {

Signer test_signer(std::uint8_t prefix, std::uint8_t last) {
  std::array<std::uint8_t, SecretKey::kSize> bytes{};
  bytes[0] = prefix;
  bytes[31] = last;
  auto secret = SecretKey::from_bytes(bytes);
  LEDGER_ASSERT(secret.is_ok());
  auto signer = Signer::create(*secret);
  LEDGER_ASSERT(signer.is_ok());
  return std::move(signer).value();
}

PublicKey off_curve_key() {
  PublicKey key;
  for (int x = 1; x < 256; ++x) {
    key.bytes.fill(0);
    key.bytes[31] = static_cast<std::uint8_t>(x);
    if (!key.is_valid()) return key;
  }
  ADD_FAILURE() << "no x in 1..255 is off the curve";
  return key;
}

bool contains(const Status& status, std::string_view text) {
  return status.message().find(text) != std::string::npos;
}

}  // namespace ledger::testing
