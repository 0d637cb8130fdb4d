#include "ledger/node/p2p/frame_cipher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <limits>
#include <string>
#include <utility>

namespace ledger::node::p2p {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

std::array<std::uint8_t, kFrameHeaderBytes> encode_header(std::uint32_t length) {
  return {static_cast<std::uint8_t>(length >> 24), static_cast<std::uint8_t>(length >> 16),
          static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
}

std::uint32_t decode_header(ByteView header) {
  return (std::uint32_t{header[0]} << 24) | (std::uint32_t{header[1]} << 16) |
         (std::uint32_t{header[2]} << 8) | std::uint32_t{header[3]};
}

// A cipher context with the key loaded once; each frame sets only the nonce.
CipherCtxPtr make_context(const SymmetricKey& key, bool encrypt) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  LEDGER_ASSERT(ctx);
  const int ok = EVP_CipherInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, key.data(), nullptr,
                                   encrypt ? 1 : 0);
  LEDGER_ASSERT(ok == 1);
  return ctx;
}

}  // namespace

std::array<std::uint8_t, 12> frame_nonce(std::uint64_t counter) {
  std::array<std::uint8_t, 12> nonce{};
  for (int i = 0; i < 8; ++i)
    nonce[4 + i] = static_cast<std::uint8_t>(counter >> (56 - 8 * i));
  return nonce;
}

// ---- FrameSealer.

struct FrameSealer::Impl {
  CipherCtxPtr ctx;
};

FrameSealer::FrameSealer(const SymmetricKey& key, std::uint64_t counter_first)
    : impl_(std::make_unique<Impl>()), counter_(counter_first) {
  impl_->ctx = make_context(key, /*encrypt=*/true);
}
FrameSealer::FrameSealer(FrameSealer&&) noexcept = default;
FrameSealer& FrameSealer::operator=(FrameSealer&&) noexcept = default;
// EVP_CIPHER_CTX_free wipes the key schedule.
FrameSealer::~FrameSealer() = default;

Bytes FrameSealer::seal(ByteView payload) {
  Bytes out;
  seal_into(payload, out);
  return out;
}

void FrameSealer::seal_into(ByteView payload, Bytes& out) {
  LEDGER_ASSERT(impl_);
  LEDGER_ASSERT(!exhausted());
  LEDGER_ASSERT(payload.size() <= kFramePayloadBytesLimit);
  const auto length = static_cast<std::uint32_t>(payload.size() + kFrameTagBytes);
  const auto header = encode_header(length);
  const auto nonce = frame_nonce(counter_);
  const std::size_t start = out.size();
  out.resize(start + kFrameHeaderBytes + length);
  std::uint8_t* frame = out.data() + start;
  std::copy(header.begin(), header.end(), frame);

  EVP_CIPHER_CTX* ctx = impl_->ctx.get();
  int written = 0;
  int final_written = 0;
  // An empty payload still needs a valid output pointer for EVP_EncryptUpdate.
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* in = payload.empty() ? &kEmpty : payload.data();
  const bool ok =
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &written, header.data(), kFrameHeaderBytes) == 1 &&
      EVP_EncryptUpdate(ctx, frame + kFrameHeaderBytes, &written, in,
                        static_cast<int>(payload.size())) == 1 &&
      static_cast<std::size_t>(written) == payload.size() &&
      EVP_EncryptFinal_ex(ctx, frame + kFrameHeaderBytes + written, &final_written) == 1 &&
      final_written == 0 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kFrameTagBytes,
                          frame + kFrameHeaderBytes + payload.size()) == 1;
  // Encryption with a valid key and nonce cannot fail short of OpenSSL itself breaking.
  LEDGER_ASSERT(ok);
  ++counter_;
}

// ---- FrameOpener.

struct FrameOpener::Impl {
  CipherCtxPtr ctx;
};

FrameOpener::FrameOpener(const SymmetricKey& key, std::uint64_t frame_bytes_max,
                         std::uint64_t counter_first)
    : impl_(std::make_unique<Impl>()), frame_bytes_max_(frame_bytes_max), counter_(counter_first) {
  LEDGER_ASSERT(frame_bytes_max <= kFramePayloadBytesLimit);
  impl_->ctx = make_context(key, /*encrypt=*/false);
}
FrameOpener::FrameOpener(FrameOpener&&) noexcept = default;
FrameOpener& FrameOpener::operator=(FrameOpener&&) noexcept = default;
FrameOpener::~FrameOpener() = default;

StatusOr<std::uint32_t> FrameOpener::open_header(ByteView header) const {
  if (header.size() != kFrameHeaderBytes) {
    return Status::invalid_argument("frame header is " + std::to_string(header.size()) +
                                    " bytes, expected 4");
  }
  const std::uint32_t length = decode_header(header);
  if (length > frame_bytes_max_ + kFrameTagBytes) {
    return Status::invalid_argument("oversized frame: " + std::to_string(length) +
                                    " bytes, limit " +
                                    std::to_string(frame_bytes_max_ + kFrameTagBytes));
  }
  if (length < kFrameTagBytes) {
    return Status::invalid_argument("short frame: " + std::to_string(length) +
                                    " bytes, less than the 16-byte tag");
  }
  return length;
}

StatusOr<Bytes> FrameOpener::open(ByteView header, ByteView ciphertext) {
  LEDGER_ASSERT(impl_);
  LEDGER_ASSIGN_OR_RETURN(std::uint32_t length, open_header(header));
  if (ciphertext.size() != length) {
    return Status::invalid_argument("frame authentication failed: header says " +
                                    std::to_string(length) + " bytes, got " +
                                    std::to_string(ciphertext.size()));
  }
  if (counter_ == kFrameCounterLast) return Status::invalid_argument("frame counter exhausted");
  const std::size_t payload_size = length - kFrameTagBytes;
  const auto nonce = frame_nonce(counter_);
  Bytes payload(payload_size);
  // The tag is const in the ciphertext; EVP_CTRL_AEAD_SET_TAG takes a non-const pointer.
  std::array<std::uint8_t, kFrameTagBytes> tag{};
  std::copy(ciphertext.begin() + static_cast<std::ptrdiff_t>(payload_size), ciphertext.end(),
            tag.begin());
  std::uint8_t empty_out = 0;
  std::uint8_t* out = payload.empty() ? &empty_out : payload.data();
  static const std::uint8_t kEmptyIn = 0;
  const std::uint8_t* in = payload_size == 0 ? &kEmptyIn : ciphertext.data();

  EVP_CIPHER_CTX* ctx = impl_->ctx.get();
  int written = 0;
  int final_written = 0;
  const bool ok =
      EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &written, header.data(), kFrameHeaderBytes) == 1 &&
      EVP_DecryptUpdate(ctx, out, &written, in, static_cast<int>(payload_size)) == 1 &&
      static_cast<std::size_t>(written) == payload_size &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kFrameTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx, out + written, &final_written) == 1;
  if (!ok) {
    OPENSSL_cleanse(payload.data(), payload.size());
    return Status::invalid_argument("frame authentication failed");
  }
  ++counter_;
  return payload;
}

}  // namespace ledger::node::p2p
