#include "ledger/core/keys.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include "support/test_keys.h"

namespace ledger {
namespace {

using ledger::testing::off_curve_key;
Signer make_signer(std::uint8_t last) {
  return ledger::testing::test_signer(0, last);
}

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

// The secp256k1 group order n.
constexpr const char* kGroupOrderHex =
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

std::array<std::uint8_t, 32> fixed_hex(std::string_view hex) {
  auto bytes = from_hex_fixed<32>(hex);
  EXPECT_TRUE(bytes.is_ok()) << hex;
  return bytes.is_ok() ? *bytes : std::array<std::uint8_t, 32>{};
}

TEST(SecretKey, RejectsZero) {
  auto secret = SecretKey::from_bytes({});
  ASSERT_FALSE(secret.is_ok());
  EXPECT_EQ(secret.status().code(), StatusCode::kInvalidArgument);
  auto from_hex = SecretKey::from_hex(std::string(64, '0'));
  ASSERT_FALSE(from_hex.is_ok());
  EXPECT_EQ(from_hex.status().code(), StatusCode::kInvalidArgument);
}

TEST(SecretKey, RejectsGroupOrderAndAbove) {
  for (const char* hex :
       {kGroupOrderHex, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364142",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}) {
    auto secret = SecretKey::from_bytes(fixed_hex(hex));
    ASSERT_FALSE(secret.is_ok()) << hex;
    EXPECT_EQ(secret.status().code(), StatusCode::kInvalidArgument);
    auto parsed = SecretKey::from_hex(hex);
    EXPECT_FALSE(parsed.is_ok()) << hex;
  }
}

TEST(SecretKey, AcceptsOneAndGroupOrderMinusOne) {
  for (const char* hex : {"0000000000000000000000000000000000000000000000000000000000000001",
                          "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140"}) {
    auto secret = SecretKey::from_hex(hex);
    ASSERT_TRUE(secret.is_ok()) << hex << ": " << secret.status().to_string();
    EXPECT_EQ(secret->hex(), hex);
    EXPECT_TRUE(Signer::create(*secret).is_ok());
  }
}

TEST(SecretKey, FromHexRejectsWrongLengthAndBadCharacters) {
  EXPECT_EQ(SecretKey::from_hex(std::string(62, '1')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SecretKey::from_hex(std::string(66, '1')).status().code(),
            StatusCode::kInvalidArgument);
  std::string bad(64, '1');
  bad[3] = 'x';
  EXPECT_EQ(SecretKey::from_hex(bad).status().code(), StatusCode::kInvalidArgument);
}

TEST(SecretKey, GenerateGivesDistinctValidKeys) {
  auto a = SecretKey::generate();
  auto b = SecretKey::generate();
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  EXPECT_NE(a->bytes(), b->bytes());
  EXPECT_TRUE(SecretKey::from_bytes(a->bytes()).is_ok());
  EXPECT_TRUE(SecretKey::from_bytes(b->bytes()).is_ok());
  auto signer_a = Signer::create(*a);
  auto signer_b = Signer::create(*b);
  ASSERT_TRUE(signer_a.is_ok());
  ASSERT_TRUE(signer_b.is_ok());
  EXPECT_TRUE(signer_a->public_key().is_valid());
  EXPECT_NE(signer_a->public_key(), signer_b->public_key());
}

TEST(SecretKey, MoveConstructionWipesTheSource) {
  auto secret =
      SecretKey::from_hex("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef");
  ASSERT_TRUE(secret.is_ok());
  const auto original = secret->bytes();
  SecretKey moved(std::move(secret).value());
  EXPECT_EQ(moved.bytes(), original);

  SecretKey target(std::move(moved));
  EXPECT_EQ(target.bytes(), original);
  EXPECT_EQ(moved.bytes(), (std::array<std::uint8_t, 32>{}));  // NOLINT: reading moved-from
}

TEST(SecretKey, MoveAssignmentWipesTheSource) {
  auto a = SecretKey::from_hex("0000000000000000000000000000000000000000000000000000000000000005");
  auto b = SecretKey::from_hex("0000000000000000000000000000000000000000000000000000000000000007");
  ASSERT_TRUE(a.is_ok());
  ASSERT_TRUE(b.is_ok());
  *a = std::move(*b);
  EXPECT_EQ(a->hex(), "0000000000000000000000000000000000000000000000000000000000000007");
  EXPECT_EQ(b->bytes(), (std::array<std::uint8_t, 32>{}));  // NOLINT: reading moved-from
}

TEST(SecretKey, CopyIsExplicitAndEqual) {
  auto a = SecretKey::from_hex("0000000000000000000000000000000000000000000000000000000000000005");
  ASSERT_TRUE(a.is_ok());
  SecretKey copy = a->copy();
  EXPECT_EQ(copy.bytes(), a->bytes());
}

TEST(Signature, SignThenVerifyRoundTrips) {
  Signer signer = make_signer(9);
  Hash message = sha256(as_bytes("pay 10 to bob"));
  Signature random_aux = signer.sign(message);
  Signature fixed_aux = signer.sign(message, std::array<std::uint8_t, 32>{});
  EXPECT_TRUE(verify_signature(signer.public_key(), message, random_aux));
  EXPECT_TRUE(verify_signature(signer.public_key(), message, fixed_aux));
}

TEST(Signature, FixedAuxIsDeterministicRandomAuxIsNot) {
  Signer signer = make_signer(9);
  Hash message = sha256(as_bytes("m"));
  std::array<std::uint8_t, 32> aux{};
  aux[0] = 1;
  EXPECT_EQ(signer.sign(message, aux), signer.sign(message, aux));
  EXPECT_NE(signer.sign(message), signer.sign(message));
}

TEST(Signature, VerifyRejectsWrongMessage) {
  Signer signer = make_signer(9);
  Hash message = sha256(as_bytes("pay 10 to bob"));
  Signature sig = signer.sign(message);
  EXPECT_FALSE(verify_signature(signer.public_key(), sha256(as_bytes("pay 11 to bob")), sig));
  Hash flipped = message;
  flipped.bytes[31] ^= 0x01;
  EXPECT_FALSE(verify_signature(signer.public_key(), flipped, sig));
}

TEST(Signature, VerifyRejectsWrongKey) {
  Signer alice = make_signer(9);
  Signer bob = make_signer(10);
  Hash message = sha256(as_bytes("m"));
  Signature sig = alice.sign(message);
  EXPECT_FALSE(verify_signature(bob.public_key(), message, sig));
}

TEST(Signature, VerifyRejectsAnyFlippedSignatureBit) {
  Signer signer = make_signer(9);
  Hash message = sha256(as_bytes("m"));
  Signature sig = signer.sign(message);
  ASSERT_TRUE(verify_signature(signer.public_key(), message, sig));
  for (std::size_t bit = 0; bit < Signature::kSize * 8; ++bit) {
    Signature bad = sig;
    bad.bytes[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(verify_signature(signer.public_key(), message, bad)) << "bit " << bit;
  }
}

TEST(Signature, VerifyRejectsInvalidPublicKey) {
  Signer signer = make_signer(9);
  Hash message = sha256(as_bytes("m"));
  Signature sig = signer.sign(message);
  PublicKey off_curve = off_curve_key();
  ASSERT_FALSE(off_curve.is_valid());
  EXPECT_FALSE(verify_signature(off_curve, message, sig));
  PublicKey above_field;
  above_field.bytes.fill(0xff);  // x >= p
  EXPECT_FALSE(above_field.is_valid());
  EXPECT_FALSE(verify_signature(above_field, message, sig));
  EXPECT_FALSE(verify_signature(PublicKey{}, message, sig));
}

TEST(PublicKey, FromHexAcceptsLowercaseValidKey) {
  Signer signer = make_signer(3);
  auto key = PublicKey::from_hex(signer.public_key().hex());
  ASSERT_TRUE(key.is_ok()) << key.status().to_string();
  EXPECT_EQ(*key, signer.public_key());
  EXPECT_TRUE(key->is_valid());
}

TEST(PublicKey, FromHexRejectsUppercase) {
  Signer signer = make_signer(3);
  std::string hex = signer.public_key().hex();
  ASSERT_NE(hex.find_first_of("abcdef"), std::string::npos);
  std::string upper = hex;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto key = PublicKey::from_hex(upper);
  ASSERT_FALSE(key.is_ok());
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(key.status().message().find("lowercase"), std::string::npos);

  // A single uppercase character is enough.
  std::string one = hex;
  one[one.find_first_of("abcdef")] -= 'a' - 'A';
  EXPECT_EQ(PublicKey::from_hex(one).status().code(), StatusCode::kInvalidArgument);
}

TEST(PublicKey, FromHexRejectsPointNotOnTheCurve) {
  PublicKey off_curve = off_curve_key();
  ASSERT_FALSE(off_curve.is_valid());
  auto key = PublicKey::from_hex(off_curve.hex());
  ASSERT_FALSE(key.is_ok());
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(key.status().message().find("not a valid"), std::string::npos);

  EXPECT_FALSE(PublicKey::from_hex(std::string(64, 'f')).is_ok());  // x >= p
  EXPECT_FALSE(PublicKey::from_hex(std::string(64, '0')).is_ok());
}

TEST(PublicKey, FromHexRejectsWrongLength) {
  Signer signer = make_signer(3);
  std::string hex = signer.public_key().hex();
  for (const std::string& bad : {hex.substr(0, 62), hex + "00", std::string()}) {
    auto key = PublicKey::from_hex(bad);
    ASSERT_FALSE(key.is_ok()) << bad;
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(Signer, PublicKeyOfSecretKeyOneIsTheGenerator) {
  Signer signer = make_signer(1);
  EXPECT_EQ(signer.public_key().hex(),
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
}

TEST(OsRandom, FillsTheBuffer) {
  std::array<std::uint8_t, 64> a{};
  std::array<std::uint8_t, 64> b{};
  ASSERT_TRUE(os_random(a).is_ok());
  ASSERT_TRUE(os_random(b).is_ok());
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace ledger
