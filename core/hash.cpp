#include "ledger/core/hash.h"

#include <openssl/evp.h>

namespace ledger {

bool Hash::is_zero() const {
  for (std::uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

StatusOr<Hash> Hash::from_hex(std::string_view hex) {
  LEDGER_ASSIGN_OR_RETURN(auto bytes, from_hex_fixed<kSize>(hex));
  Hash h;
  h.bytes = bytes;
  return h;
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  LEDGER_ASSERT(impl_->ctx != nullptr);
  LEDGER_ASSERT(EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
}

Sha256& Sha256::update(ByteView data) {
  LEDGER_ASSERT(EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) == 1);
  return *this;
}

Hash Sha256::finish() {
  Hash out;
  unsigned int size = 0;
  LEDGER_ASSERT(EVP_DigestFinal_ex(impl_->ctx, out.bytes.data(), &size) == 1);
  LEDGER_ASSERT(size == Hash::kSize);
  return out;
}

Hash sha256(ByteView data) {
  Hash out;
  unsigned int size = 0;
  LEDGER_ASSERT(
      EVP_Digest(data.data(), data.size(), out.bytes.data(), &size, EVP_sha256(), nullptr) == 1);
  LEDGER_ASSERT(size == Hash::kSize);
  return out;
}

}  // namespace ledger
