#include "ledger/core/keys.h"

#include <gtest/gtest.h>

namespace ledger {
namespace {

// BIP340 test vector 0 (from the BIP): secret key 3, aux 0, message 0.
TEST(Keys, Bip340OfficialVectorZero) {
  auto secret =
      SecretKey::from_hex("0000000000000000000000000000000000000000000000000000000000000003");
  ASSERT_TRUE(secret.is_ok()) << secret.status().to_string();
  auto signer = Signer::create(*secret);
  ASSERT_TRUE(signer.is_ok());
  EXPECT_EQ(signer->public_key().hex(),
            "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
  Hash message;  // all zero
  Signature sig = signer->sign(message, std::array<std::uint8_t, 32>{});
  EXPECT_EQ(sig.hex(),
            "e907831f80848d1069a5371b402410364bdf1c5f8307b0084c55f1ce2dca8215"
            "25f66a4a85ea8b71e482a74f382d2ce5ebeee8fdb2172f477df4900d310536c0");
  EXPECT_TRUE(verify_signature(signer->public_key(), message, sig));
}

}  // namespace
}  // namespace ledger
