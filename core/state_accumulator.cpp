// The lattice state digest: each account maps to a 1024-lane vector of 16-bit words via
// SHAKE256, and the state is the lane-wise sum mod 2^16. Removing is subtraction, so the digest
// of the state after a block costs O(accounts touched), independent of the state size.
#include <openssl/evp.h>

#include "ledger/core/encoding.h"
#include "ledger/core/state.h"

namespace ledger {
namespace {

constexpr std::string_view kAccountTag = "ledgerd/account";
constexpr std::string_view kStateTag = "ledgerd/state";

std::array<std::uint16_t, StateAccumulator::kLanes> expand(const Address& address,
                                                           const Account& account) {
  ByteWriter w;
  w.string8(kAccountTag).fixed(address.bytes).u64(account.balance).u64(account.nonce);
  std::array<std::uint8_t, StateAccumulator::kEncodedSize> out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  LEDGER_ASSERT(ctx != nullptr);
  bool ok = EVP_DigestInit_ex(ctx, EVP_shake256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, w.data().data(), w.data().size()) == 1 &&
            EVP_DigestFinalXOF(ctx, out.data(), out.size()) == 1;
  EVP_MD_CTX_free(ctx);
  LEDGER_ASSERT(ok);
  std::array<std::uint16_t, StateAccumulator::kLanes> lanes{};
  for (std::size_t i = 0; i < lanes.size(); ++i) {
    lanes[i] = static_cast<std::uint16_t>(out[2 * i] | (out[2 * i + 1] << 8));
  }
  return lanes;
}

}  // namespace

void StateAccumulator::add(const Address& address, const Account& account) {
  if (account.is_empty()) return;
  auto lanes = expand(address, account);
  for (std::size_t i = 0; i < kLanes; ++i)
    lanes_[i] = static_cast<std::uint16_t>(lanes_[i] + lanes[i]);
}

void StateAccumulator::remove(const Address& address, const Account& account) {
  if (account.is_empty()) return;
  auto lanes = expand(address, account);
  for (std::size_t i = 0; i < kLanes; ++i)
    lanes_[i] = static_cast<std::uint16_t>(lanes_[i] - lanes[i]);
}

Hash StateAccumulator::digest() const {
  Bytes encoded = encode();
  ByteWriter w;
  w.string8(kStateTag);
  return Sha256().update(w.data()).update(encoded).finish();
}

Bytes StateAccumulator::encode() const {
  Bytes out(kEncodedSize);
  for (std::size_t i = 0; i < kLanes; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(lanes_[i]);
    out[2 * i + 1] = static_cast<std::uint8_t>(lanes_[i] >> 8);
  }
  return out;
}

StatusOr<StateAccumulator> StateAccumulator::decode(ByteView bytes) {
  if (bytes.size() != kEncodedSize) {
    return Status::invalid_argument("state accumulator is " + std::to_string(bytes.size()) +
                                    " bytes, expected " + std::to_string(kEncodedSize));
  }
  StateAccumulator acc;
  for (std::size_t i = 0; i < kLanes; ++i) {
    acc.lanes_[i] = static_cast<std::uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  }
  return acc;
}

}  // namespace ledger
