#include "ledger/core/keys.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace ledger {

Status os_random(std::span<std::uint8_t> out) {
  std::size_t filled = 0;
  while (filled < out.size()) {
    ssize_t n = getrandom(out.data() + filled, out.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(std::string("getrandom failed: ") + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  return Status::ok();
}

bool PublicKey::is_valid() const {
  secp256k1_xonly_pubkey parsed;
  return secp256k1_xonly_pubkey_parse(secp256k1_context_static, &parsed, bytes.data()) == 1;
}

StatusOr<PublicKey> PublicKey::from_hex(std::string_view hex) {
  for (char c : hex) {
    if (c >= 'A' && c <= 'F') {
      return Status::invalid_argument("public key must be lowercase hex");
    }
  }
  LEDGER_ASSIGN_OR_RETURN(auto bytes, from_hex_fixed<kSize>(hex));
  PublicKey key;
  key.bytes = bytes;
  if (!key.is_valid()) {
    return Status::invalid_argument("public key " + std::string(hex) +
                                    " is not a valid secp256k1 x-only key");
  }
  return key;
}

StatusOr<SecretKey> SecretKey::from_bytes(const std::array<std::uint8_t, kSize>& bytes) {
  if (secp256k1_ec_seckey_verify(secp256k1_context_static, bytes.data()) != 1) {
    return Status::invalid_argument("secret key is zero or not below the secp256k1 group order");
  }
  return SecretKey(bytes);
}

StatusOr<SecretKey> SecretKey::from_hex(std::string_view hex) {
  LEDGER_ASSIGN_OR_RETURN(auto bytes, from_hex_fixed<kSize>(hex));
  auto key = from_bytes(bytes);
  std::memset(bytes.data(), 0, bytes.size());
  return key;
}

StatusOr<SecretKey> SecretKey::generate() {
  // A uniformly random 32-byte string is a valid key except with negligible probability;
  // retry rather than assume.
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::array<std::uint8_t, kSize> bytes{};
    LEDGER_RETURN_IF_ERROR(os_random(bytes));
    auto key = from_bytes(bytes);
    std::memset(bytes.data(), 0, bytes.size());
    if (key.is_ok()) return key;
  }
  return Status::internal("could not draw a valid secret key");
}

SecretKey::SecretKey(SecretKey&& other) noexcept : bytes_(other.bytes_) {
  std::memset(other.bytes_.data(), 0, other.bytes_.size());
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    std::memset(other.bytes_.data(), 0, other.bytes_.size());
  }
  return *this;
}

SecretKey::~SecretKey() {
  // volatile stores so the wipe is not optimised away.
  volatile std::uint8_t* p = bytes_.data();
  for (std::size_t i = 0; i < bytes_.size(); ++i)
    p[i] = 0;
}

struct Signer::Impl {
  secp256k1_context* ctx = nullptr;
  secp256k1_keypair keypair{};
  ~Impl() {
    if (ctx != nullptr) secp256k1_context_destroy(ctx);
    std::memset(&keypair, 0, sizeof(keypair));
  }
};

Signer::Signer(std::unique_ptr<Impl> impl, PublicKey public_key)
    : impl_(std::move(impl)), public_key_(public_key) {}
Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;
Signer::~Signer() = default;

StatusOr<Signer> Signer::create(const SecretKey& secret) {
  auto impl = std::make_unique<Impl>();
  impl->ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  if (impl->ctx == nullptr) return Status::internal("secp256k1_context_create failed");
  std::array<std::uint8_t, 32> seed{};
  LEDGER_RETURN_IF_ERROR(os_random(seed));
  if (secp256k1_context_randomize(impl->ctx, seed.data()) != 1) {
    return Status::internal("secp256k1_context_randomize failed");
  }
  if (secp256k1_keypair_create(impl->ctx, &impl->keypair, secret.bytes().data()) != 1) {
    return Status::invalid_argument("secret key is not valid for secp256k1");
  }
  secp256k1_xonly_pubkey xonly;
  LEDGER_ASSERT(secp256k1_keypair_xonly_pub(impl->ctx, &xonly, nullptr, &impl->keypair) == 1);
  PublicKey public_key;
  LEDGER_ASSERT(secp256k1_xonly_pubkey_serialize(impl->ctx, public_key.bytes.data(), &xonly) == 1);
  return Signer(std::move(impl), public_key);
}

Signature Signer::sign(const Hash& message,
                       const std::optional<std::array<std::uint8_t, 32>>& aux_random) const {
  std::array<std::uint8_t, 32> aux{};
  if (aux_random) {
    aux = *aux_random;
  } else if (!os_random(aux).is_ok()) {
    // BIP340 stays secure with a fixed aux value (it only adds side-channel protection), so a
    // failing random source degrades to deterministic signing rather than aborting.
    aux.fill(0);
  }
  Signature sig;
  LEDGER_ASSERT(secp256k1_schnorrsig_sign32(impl_->ctx, sig.bytes.data(), message.bytes.data(),
                                            &impl_->keypair, aux.data()) == 1);
  return sig;
}

bool verify_signature(const PublicKey& key, const Hash& message, const Signature& signature) {
  secp256k1_xonly_pubkey parsed;
  if (secp256k1_xonly_pubkey_parse(secp256k1_context_static, &parsed, key.bytes.data()) != 1) {
    return false;
  }
  return secp256k1_schnorrsig_verify(secp256k1_context_static, signature.bytes.data(),
                                     message.bytes.data(), message.bytes.size(), &parsed) == 1;
}

}  // namespace ledger
