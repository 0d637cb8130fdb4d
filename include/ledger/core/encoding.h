// Canonical binary encoding: big-endian fixed-width integers, fixed-size byte arrays, and
// length-prefixed variable byte strings. Every signed payload starts with a domain tag.
//
// ByteReader never reads past its input; every read returns a Status naming the field, and
// finish() rejects trailing bytes, so a decoder built from it accepts exactly one encoding per
// value.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/core/bytes.h"

namespace ledger {

class ByteWriter {
 public:
  ByteWriter& u8(std::uint8_t v);
  ByteWriter& u16(std::uint16_t v);
  ByteWriter& u32(std::uint32_t v);
  ByteWriter& u64(std::uint64_t v);
  ByteWriter& raw(ByteView v);  // no length prefix
  template <std::size_t N>
  ByteWriter& fixed(const std::array<std::uint8_t, N>& v) {
    return raw(ByteView(v.data(), v.size()));
  }
  // u8 length then the bytes; the caller guarantees size <= 255.
  ByteWriter& string8(std::string_view s);
  // u16 length then the bytes; the caller guarantees size <= 65535.
  ByteWriter& bytes16(ByteView v);
  // u32 length then the bytes.
  ByteWriter& bytes32(ByteView v);

  const Bytes& data() const& { return out_; }
  Bytes&& take() && { return std::move(out_); }

 private:
  Bytes out_;
};

class ByteReader {
 public:
  explicit ByteReader(ByteView input) : input_(input) {}

  // Each read fails with kInvalidArgument "<field>: truncated ..." when input is short.
  Status u8(std::string_view field, std::uint8_t& out);
  Status u16(std::string_view field, std::uint16_t& out);
  Status u32(std::string_view field, std::uint32_t& out);
  Status u64(std::string_view field, std::uint64_t& out);
  template <std::size_t N>
  Status fixed(std::string_view field, std::array<std::uint8_t, N>& out) {
    ByteView v;
    LEDGER_RETURN_IF_ERROR(take(field, N, v));
    for (std::size_t i = 0; i < N; ++i)
      out[i] = v[i];
    return Status::ok();
  }
  Status string8(std::string_view field, std::string& out);
  // Fails if the declared length exceeds `max_size`.
  Status bytes16(std::string_view field, std::size_t max_size, Bytes& out);
  Status bytes32(std::string_view field, std::size_t max_size, Bytes& out);
  // A u32 length-prefixed byte string returned as a view into the input.
  Status view32(std::string_view field, std::size_t max_size, ByteView& out);

  // Checks that a domain tag (string8) equals `tag`.
  Status expect_tag(std::string_view what, std::string_view tag);

  std::size_t remaining() const { return input_.size() - offset_; }
  std::size_t offset() const { return offset_; }
  // Fails with kInvalidArgument if any byte is left unread.
  Status finish(std::string_view what) const;

 private:
  Status take(std::string_view field, std::size_t n, ByteView& out);

  ByteView input_;
  std::size_t offset_ = 0;
};

}  // namespace ledger
