#include "ledger/core/encoding.h"

namespace ledger {

ByteWriter& ByteWriter::u8(std::uint8_t v) {
  out_.push_back(v);
  return *this;
}

ByteWriter& ByteWriter::u16(std::uint16_t v) {
  out_.push_back(static_cast<std::uint8_t>(v >> 8));
  out_.push_back(static_cast<std::uint8_t>(v));
  return *this;
}

ByteWriter& ByteWriter::u32(std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out_.push_back(static_cast<std::uint8_t>(v >> shift));
  return *this;
}

ByteWriter& ByteWriter::u64(std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out_.push_back(static_cast<std::uint8_t>(v >> shift));
  return *this;
}

ByteWriter& ByteWriter::raw(ByteView v) {
  out_.insert(out_.end(), v.begin(), v.end());
  return *this;
}

ByteWriter& ByteWriter::string8(std::string_view s) {
  LEDGER_ASSERT(s.size() <= 0xff);
  u8(static_cast<std::uint8_t>(s.size()));
  return raw(as_bytes(s));
}

ByteWriter& ByteWriter::bytes16(ByteView v) {
  LEDGER_ASSERT(v.size() <= 0xffff);
  u16(static_cast<std::uint16_t>(v.size()));
  return raw(v);
}

ByteWriter& ByteWriter::bytes32(ByteView v) {
  LEDGER_ASSERT(v.size() <= 0xffffffffu);
  u32(static_cast<std::uint32_t>(v.size()));
  return raw(v);
}

Status ByteReader::take(std::string_view field, std::size_t n, ByteView& out) {
  if (remaining() < n) {
    return Status::invalid_argument(std::string(field) + ": truncated at byte " +
                                    std::to_string(offset_) + " (need " + std::to_string(n) +
                                    ", have " + std::to_string(remaining()) + ")");
  }
  out = input_.subspan(offset_, n);
  offset_ += n;
  return Status::ok();
}

Status ByteReader::u8(std::string_view field, std::uint8_t& out) {
  ByteView v;
  LEDGER_RETURN_IF_ERROR(take(field, 1, v));
  out = v[0];
  return Status::ok();
}

Status ByteReader::u16(std::string_view field, std::uint16_t& out) {
  ByteView v;
  LEDGER_RETURN_IF_ERROR(take(field, 2, v));
  out = static_cast<std::uint16_t>((v[0] << 8) | v[1]);
  return Status::ok();
}

Status ByteReader::u32(std::string_view field, std::uint32_t& out) {
  ByteView v;
  LEDGER_RETURN_IF_ERROR(take(field, 4, v));
  out = 0;
  for (std::uint8_t b : v)
    out = (out << 8) | b;
  return Status::ok();
}

Status ByteReader::u64(std::string_view field, std::uint64_t& out) {
  ByteView v;
  LEDGER_RETURN_IF_ERROR(take(field, 8, v));
  out = 0;
  for (std::uint8_t b : v)
    out = (out << 8) | b;
  return Status::ok();
}

Status ByteReader::string8(std::string_view field, std::string& out) {
  std::uint8_t size = 0;
  LEDGER_RETURN_IF_ERROR(u8(field, size));
  ByteView v;
  LEDGER_RETURN_IF_ERROR(take(field, size, v));
  out.assign(v.begin(), v.end());
  return Status::ok();
}

Status ByteReader::bytes16(std::string_view field, std::size_t max_size, Bytes& out) {
  std::uint16_t size = 0;
  LEDGER_RETURN_IF_ERROR(u16(field, size));
  if (size > max_size) {
    return Status::invalid_argument(std::string(field) + ": length " + std::to_string(size) +
                                    " exceeds the limit of " + std::to_string(max_size));
  }
  ByteView v;
  LEDGER_RETURN_IF_ERROR(take(field, size, v));
  out.assign(v.begin(), v.end());
  return Status::ok();
}

Status ByteReader::view32(std::string_view field, std::size_t max_size, ByteView& out) {
  std::uint32_t size = 0;
  LEDGER_RETURN_IF_ERROR(u32(field, size));
  if (size > max_size) {
    return Status::invalid_argument(std::string(field) + ": length " + std::to_string(size) +
                                    " exceeds the limit of " + std::to_string(max_size));
  }
  return take(field, size, out);
}

Status ByteReader::bytes32(std::string_view field, std::size_t max_size, Bytes& out) {
  ByteView v;
  LEDGER_RETURN_IF_ERROR(view32(field, max_size, v));
  out.assign(v.begin(), v.end());
  return Status::ok();
}

Status ByteReader::expect_tag(std::string_view what, std::string_view tag) {
  std::string got;
  LEDGER_RETURN_IF_ERROR(string8("domain tag", got));
  if (got != tag) {
    return Status::invalid_argument("not a " + std::string(what) + ": domain tag is '" + got +
                                    "', expected '" + std::string(tag) + "'");
  }
  return Status::ok();
}

Status ByteReader::finish(std::string_view what) const {
  if (remaining() != 0) {
    return Status::invalid_argument(std::string(what) + ": " + std::to_string(remaining()) +
                                    " trailing bytes after offset " + std::to_string(offset_));
  }
  return Status::ok();
}

}  // namespace ledger
