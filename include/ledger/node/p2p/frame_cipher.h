// Encrypted frames after the handshake (docs/p2p.md, "Frames"):
//
//   u32 big-endian L || ChaCha20-Poly1305 ciphertext of the payload (L bytes, tag included)
//
// under the sender's direction key, nonce = 4 zero bytes || u64 big-endian frame counter of
// that direction (0, 1, 2, ...), AAD = the 4 length bytes. A FrameSealer and a FrameOpener each
// hold one direction's key and counter; a connection has one of each.
//
// Both are move-only RAII wrappers over an OpenSSL EVP_CIPHER_CTX and wipe their key on
// destruction. Not thread-safe: one thread uses an instance at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "ledger/core/bytes.h"
#include "ledger/core/status.h"
#include "ledger/node/p2p/handshake.h"

namespace ledger::node::p2p {

inline constexpr std::size_t kFrameHeaderBytes = 4;
inline constexpr std::size_t kFrameTagBytes = 16;
inline constexpr std::size_t kFrameOverheadBytes = kFrameHeaderBytes + kFrameTagBytes;
// The largest payload this implementation seals or opens (OpenSSL takes int lengths); far above
// any useful frame_bytes_max.
inline constexpr std::uint64_t kFramePayloadBytesLimit = 0x7fffffffull - kFrameTagBytes;
// A direction may use counters 0 .. kFrameCounterLast - 1; kFrameCounterLast itself is never
// used, so the counter never wraps. The sender closes the connection instead.
inline constexpr std::uint64_t kFrameCounterLast = ~std::uint64_t{0};

class FrameSealer {
 public:
  // `counter_first` is the counter of the first frame sealed (0 on the wire; tests start near
  // the end to check exhaustion).
  explicit FrameSealer(const SymmetricKey& key, std::uint64_t counter_first = 0);
  FrameSealer(FrameSealer&&) noexcept;
  FrameSealer& operator=(FrameSealer&&) noexcept;
  ~FrameSealer();

  // Whether the counter is used up: sealing again is not allowed; close the connection.
  bool exhausted() const { return counter_ == kFrameCounterLast; }
  // The counter the next sealed frame uses.
  std::uint64_t counter() const { return counter_; }

  // Returns the length prefix and the ciphertext of `payload` (payload.size() + 20 bytes) and
  // advances the counter. Preconditions (asserted): !exhausted() and payload.size() <=
  // kFramePayloadBytesLimit.
  Bytes seal(ByteView payload);
  // As seal(), appending the frame to `out` (to batch several frames into one write).
  void seal_into(ByteView payload, Bytes& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint64_t counter_ = 0;
};

class FrameOpener {
 public:
  // `frame_bytes_max` is the largest payload accepted (at most kFramePayloadBytesLimit).
  FrameOpener(const SymmetricKey& key, std::uint64_t frame_bytes_max,
              std::uint64_t counter_first = 0);
  FrameOpener(FrameOpener&&) noexcept;
  FrameOpener& operator=(FrameOpener&&) noexcept;
  ~FrameOpener();

  std::uint64_t frame_bytes_max() const { return frame_bytes_max_; }
  // The counter the next frame must have been sealed with.
  std::uint64_t counter() const { return counter_; }

  // Checks a 4-byte header before the body is read and returns the ciphertext length L to read.
  // kInvalidArgument "oversized frame: L bytes, limit frame_bytes_max+16" or "short frame: L
  // bytes, less than the 16-byte tag"; kInvalidArgument if `header` is not 4 bytes.
  StatusOr<std::uint32_t> open_header(ByteView header) const;
  // Decrypts the next frame: `header` as passed to open_header, `ciphertext` its L bytes.
  // kInvalidArgument "frame authentication failed" if the tag does not verify (tampered,
  // wrong key, replayed, reordered or truncated frame), "frame counter exhausted" if the peer
  // has used every counter, or as open_header. The counter advances only on success.
  StatusOr<Bytes> open(ByteView header, ByteView ciphertext);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint64_t frame_bytes_max_ = 0;
  std::uint64_t counter_ = 0;
};

// The 12-byte nonce of frame `counter`: 4 zero bytes || u64 big-endian counter.
std::array<std::uint8_t, 12> frame_nonce(std::uint64_t counter);

}  // namespace ledger::node::p2p
