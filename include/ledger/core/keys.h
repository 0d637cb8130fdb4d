// Keys and BIP340 Schnorr signatures over secp256k1 (libsecp256k1 schnorrsig + extrakeys).
//
// An account address is the 32-byte x-only public key, written as 64 lowercase hex
// characters. Messages signed are always 32-byte digests (see the signing_hash functions of
// each signed type), so a signature from one domain can never verify in another.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/core/bytes.h"
#include "ledger/core/hash.h"

namespace ledger {

// An x-only public key (BIP340). Also the account address and the validator key.
struct PublicKey {
  static constexpr std::size_t kSize = 32;
  std::array<std::uint8_t, kSize> bytes{};

  std::string hex() const { return to_hex(bytes); }
  // Parses 64 hex characters that encode a valid point; rejects uppercase so every address
  // has exactly one written form.
  static StatusOr<PublicKey> from_hex(std::string_view hex);
  // Whether the bytes are a valid x-only key on the curve.
  bool is_valid() const;

  friend auto operator<=>(const PublicKey&, const PublicKey&) = default;
};
using Address = PublicKey;

struct PublicKeyHasher {
  std::size_t operator()(const PublicKey& k) const {
    std::size_t out = 0;
    for (std::size_t i = 0; i < sizeof(out); ++i)
      out = (out << 8) | k.bytes[i];
    return out;
  }
};

struct Signature {
  static constexpr std::size_t kSize = 64;
  std::array<std::uint8_t, kSize> bytes{};

  std::string hex() const { return to_hex(bytes); }
  friend auto operator<=>(const Signature&, const Signature&) = default;
};

// A 32-byte secret key. Wiped from memory on destruction; copying is explicit.
class SecretKey {
 public:
  static constexpr std::size_t kSize = 32;

  // Fails if `bytes` is zero or not below the curve order.
  static StatusOr<SecretKey> from_bytes(const std::array<std::uint8_t, kSize>& bytes);
  static StatusOr<SecretKey> from_hex(std::string_view hex);
  // A fresh key from the operating system's random source (getrandom(2)).
  static StatusOr<SecretKey> generate();

  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  ~SecretKey();

  SecretKey copy() const { return SecretKey(bytes_); }
  const std::array<std::uint8_t, kSize>& bytes() const { return bytes_; }
  std::string hex() const { return to_hex(bytes_); }

 private:
  explicit SecretKey(const std::array<std::uint8_t, kSize>& bytes) : bytes_(bytes) {}
  std::array<std::uint8_t, kSize> bytes_{};
};

// Holds a key pair and a randomized signing context. Not thread-safe: one Signer per thread
// (signing mutates nothing observable, but libsecp256k1 contexts are not shared for writing).
class Signer {
 public:
  // Creates the context, randomizes it from the OS random source, derives the key pair.
  static StatusOr<Signer> create(const SecretKey& secret);

  Signer(Signer&&) noexcept;
  Signer& operator=(Signer&&) noexcept;
  ~Signer();

  const PublicKey& public_key() const { return public_key_; }

  // BIP340 signature of the 32-byte digest `message`. With `aux_random` the signature is
  // deterministic (used for test vectors); without it 32 fresh random bytes are used.
  Signature sign(const Hash& message,
                 const std::optional<std::array<std::uint8_t, 32>>& aux_random = {}) const;

 private:
  struct Impl;
  explicit Signer(std::unique_ptr<Impl> impl, PublicKey public_key);
  std::unique_ptr<Impl> impl_;
  PublicKey public_key_;
};

// Verifies a BIP340 signature of the 32-byte digest `message`. Thread-safe. Returns false for
// an invalid key as well as for a wrong signature.
bool verify_signature(const PublicKey& key, const Hash& message, const Signature& signature);

// Fills `out` from the operating system's random source. Fails only if the OS does.
Status os_random(std::span<std::uint8_t> out);

}  // namespace ledger
