// Account state, the state digest, and transfer execution (DESIGN.md section 4).
//
// Execution is pure: it reads accounts through AccountReader and returns the results and the
// changed accounts; storage applies them in the same atomic batch as the block.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "ledger/core/block.h"
#include "ledger/core/hash.h"
#include "ledger/core/keys.h"

namespace ledger {

struct Account {
  std::uint64_t balance = 0;
  std::uint64_t nonce = 0;  // number of transactions this account has executed successfully

  // An account with zero balance and zero nonce does not exist (is not stored or hashed).
  bool is_empty() const { return balance == 0 && nonce == 0; }
  friend bool operator==(const Account&, const Account&) = default;
};

Bytes encode_account(const Account& account);      // balance u64 || nonce u64
StatusOr<Account> decode_account(ByteView bytes);  // exactly 16 bytes

// One per included transaction, in block order. Codes are part of the protocol: stored,
// hashed into nothing yet, returned over RPC. Never renumber.
enum class TxResultCode : std::uint8_t {
  kSuccess = 0,
  kBadNonce = 1,           // nonce != the sender's account nonce
  kInsufficientFunds = 2,  // amount > the sender's balance
  kBalanceOverflow = 3,    // the recipient's balance would exceed 2^64-1
  kNonceExhausted = 4,     // the sender's nonce is already 2^64-1
  kWrongChainId = 5,       // the transaction names another chain
  kBadSignature = 6,       // the signature does not verify
};
const char* tx_result_name(TxResultCode code);
// Whether `value` is a known code (for decoders).
bool is_known_tx_result(std::uint8_t value);

struct BlockResults {
  std::vector<TxResultCode> codes;  // codes.size() == block.transactions.size()
  Hash state_root;                  // digest of the state after this block
  friend bool operator==(const BlockResults&, const BlockResults&) = default;
};
Bytes encode_block_results(const BlockResults& results);
StatusOr<BlockResults> decode_block_results(ByteView bytes);

// An incremental, order-independent digest of the whole account state (a lattice hash:
// 1024 16-bit lanes, each account contributes SHAKE256(tag || address || account) added lane-
// wise mod 2^16). Adding and removing one account costs O(1) regardless of the state size, so
// the digest of the state after every block is cheap, and two states are equal iff (with
// overwhelming probability) their digests are.
class StateAccumulator {
 public:
  static constexpr std::size_t kLanes = 1024;
  static constexpr std::size_t kEncodedSize = 2 * kLanes;

  void add(const Address& address, const Account& account);     // no-op for an empty account
  void remove(const Address& address, const Account& account);  // no-op for an empty account
  // SHA-256 over the tagged lanes: the state root.
  Hash digest() const;

  Bytes encode() const;  // lanes as little-endian u16
  static StatusOr<StateAccumulator> decode(ByteView bytes);
  friend bool operator==(const StateAccumulator&, const StateAccumulator&) = default;

 private:
  std::array<std::uint16_t, kLanes> lanes_{};
};

// Read access to committed (or speculative) state. Absent accounts read as Account{}.
class AccountReader {
 public:
  virtual ~AccountReader() = default;
  virtual StatusOr<Account> account(const Address& address) const = 0;
};

struct ExecutionOutput {
  BlockResults results;
  // Final value of every account the block touched, sorted by address. An empty Account
  // means the account is to be deleted.
  std::map<Address, Account> changed;
  StateAccumulator accumulator;  // `before` with the changes applied
};

// Decides whether a transaction's signature is valid. The default verifies it; the node passes
// one that consults its verified-signature cache.
using SignatureCheck = std::function<bool(const SignedTransfer& tx)>;

// Executes `block`'s transactions in order against `state` (DESIGN.md section 4): a
// transaction succeeds when its chain id matches, its signature verifies, its nonce equals the
// sender's nonce, the balance covers the amount and no balance or nonce would overflow; success
// moves the funds and increments the nonce; any failure records its code and changes nothing.
// Errors only if `state` fails to read.
//
// The checks run in this order and the first failure is the result:
//   1. kWrongChainId   tx chain id != block.header.chain_id
//   2. kBadSignature   signature_ok(tx) if given, else verify_transfer_signature(tx)
//   3. kBadNonce       tx nonce != the sender's nonce
//   4. kNonceExhausted the sender's nonce is 2^64-1 (so it cannot be incremented)
//   5. kInsufficientFunds amount > the sender's balance (self-transfers included)
//   6. kBalanceOverflow   recipient balance + amount > 2^64-1 (recipient != sender only)
// Why: 1-2 need no state (cheapest first), so a forged or foreign transaction reports the
// same code whatever the state. Among the sender checks the nonce comes first: a replayed or
// out-of-order transaction is always kBadNonce, never a misleading funds error, and 4 can only
// fire for the one nonce that matches. The recipient is read only once the sender's checks
// pass. A self-transfer that passes 1-5 succeeds and only increments the nonce. Every
// transaction gets exactly one code; the accounts touched are read at most once each.
StatusOr<ExecutionOutput> execute_block(const Block& block, const AccountReader& state,
                                        const StateAccumulator& before,
                                        const SignatureCheck& signature_ok = {});

}  // namespace ledger
