// Transfer execution (DESIGN.md section 4). The order of the checks is documented next to
// execute_block in state.h; the code below follows it one function per step.
#include <limits>

#include "ledger/core/state.h"

namespace ledger {
namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

// Accounts touched within one block: the value before the block (read once through the
// AccountReader) and the value now. Bounded by two entries per transaction in the block.
class Overlay {
 public:
  explicit Overlay(const AccountReader& state) : state_(state) {}

  StatusOr<Account> get(const Address& address) {
    auto it = entries_.find(address);
    if (it != entries_.end()) return it->second.now;
    auto read = state_.account(address);
    if (!read.is_ok()) return read.status().with_context("execute_block: account " + address.hex());
    entries_.emplace(address, Entry{*read, *read});
    return std::move(read).value();
  }

  // `address` must have been read through get() first.
  void set(const Address& address, const Account& account) {
    auto it = entries_.find(address);
    LEDGER_ASSERT(it != entries_.end());
    it->second.now = account;
  }

  // Fills `out.changed` and applies every change to `out.accumulator`.
  void finish(ExecutionOutput& out) const {
    for (const auto& [address, entry] : entries_) {
      if (entry.now == entry.before) continue;
      out.changed.emplace(address, entry.now);
      out.accumulator.remove(address, entry.before);
      out.accumulator.add(address, entry.now);
    }
  }

 private:
  struct Entry {
    Account before;  // as read from `state_`
    Account now;     // after the transactions executed so far
  };
  const AccountReader& state_;
  std::map<Address, Entry> entries_;
};

// The checks that need no state, cheapest first.
TxResultCode check_stateless(const SignedTransfer& tx, const std::string& chain_id,
                             const SignatureCheck& signature_ok) {
  if (tx.transfer.chain_id != chain_id) return TxResultCode::kWrongChainId;
  bool valid = signature_ok ? signature_ok(tx) : verify_transfer_signature(tx);
  if (!valid) return TxResultCode::kBadSignature;
  return TxResultCode::kSuccess;
}

// The checks on the sender's account.
TxResultCode check_sender(const Transfer& t, const Account& sender) {
  if (t.nonce != sender.nonce) return TxResultCode::kBadNonce;
  if (sender.nonce == kU64Max) return TxResultCode::kNonceExhausted;
  if (t.amount > sender.balance) return TxResultCode::kInsufficientFunds;
  return TxResultCode::kSuccess;
}

// Runs one transaction against the overlay; on any failure the overlay is left unchanged.
StatusOr<TxResultCode> execute_one(const SignedTransfer& tx, const std::string& chain_id,
                                   const SignatureCheck& signature_ok, Overlay& overlay) {
  TxResultCode code = check_stateless(tx, chain_id, signature_ok);
  if (code != TxResultCode::kSuccess) return code;
  const Transfer& t = tx.transfer;
  LEDGER_ASSIGN_OR_RETURN(Account sender, overlay.get(t.sender));
  code = check_sender(t, sender);
  if (code != TxResultCode::kSuccess) return code;
  if (t.recipient == t.sender) {
    // A self-transfer moves nothing; it still consumes the nonce like any executed transfer.
    overlay.set(t.sender, {sender.balance, sender.nonce + 1});
    return TxResultCode::kSuccess;
  }
  LEDGER_ASSIGN_OR_RETURN(Account recipient, overlay.get(t.recipient));
  if (recipient.balance > kU64Max - t.amount) return TxResultCode::kBalanceOverflow;
  overlay.set(t.sender, {sender.balance - t.amount, sender.nonce + 1});
  overlay.set(t.recipient, {recipient.balance + t.amount, recipient.nonce});
  return TxResultCode::kSuccess;
}

}  // namespace

StatusOr<ExecutionOutput> execute_block(const Block& block, const AccountReader& state,
                                        const StateAccumulator& before,
                                        const SignatureCheck& signature_ok) {
  Overlay overlay(state);
  ExecutionOutput out;
  out.results.codes.reserve(block.transactions.size());
  for (const SignedTransfer& tx : block.transactions) {
    LEDGER_ASSIGN_OR_RETURN(TxResultCode code,
                            execute_one(tx, block.header.chain_id, signature_ok, overlay));
    out.results.codes.push_back(code);
  }
  out.accumulator = before;
  overlay.finish(out);
  out.results.state_root = out.accumulator.digest();
  LEDGER_ASSERT(out.results.codes.size() == block.transactions.size());
  return out;
}

}  // namespace ledger
