#include "ledger/node/mempool.h"

#include <limits>
#include <set>
#include <utility>

#include "ledger/core/assert.h"

namespace ledger::node {
namespace {

// Senders whose state nonce select() reads per lock release: the state may be on disk, so it
// is never read under the mutex, and a full block usually needs only the first few senders.
constexpr std::size_t kSelectSendersPerRead = 256;

std::string count(std::uint64_t n, const char* unit) {
  return std::to_string(n) + " " + unit;
}

Status check_field(bool ok, const char* field, const std::string& rule, std::uint64_t value) {
  if (ok) return Status::ok();
  return Status::invalid_argument(std::string("mempool.") + field + ": must be " + rule + " (got " +
                                  std::to_string(value) + ")");
}

}  // namespace

Status MempoolLimits::validate() const {
  LEDGER_RETURN_IF_ERROR(check_field(txs_max >= 1, "txs_max", "at least 1", txs_max));
  LEDGER_RETURN_IF_ERROR(
      check_field(tx_bytes_max >= 1 && tx_bytes_max <= kTransferBytesMax, "tx_bytes_max",
                  "between 1 and " + std::to_string(kTransferBytesMax), tx_bytes_max));
  LEDGER_RETURN_IF_ERROR(check_field(
      bytes_max >= tx_bytes_max, "bytes_max",
      "at least mempool.tx_bytes_max (" + std::to_string(tx_bytes_max) + ")", bytes_max));
  LEDGER_RETURN_IF_ERROR(
      check_field(per_sender_max >= 1, "per_sender_max", "at least 1", per_sender_max));
  LEDGER_RETURN_IF_ERROR(
      check_field(nonce_window >= 1, "nonce_window", "at least 1", nonce_window));
  LEDGER_RETURN_IF_ERROR(check_field(ttl_blocks >= 1, "ttl_blocks", "at least 1", ttl_blocks));
  return Status::ok();
}

struct Mempool::Candidate {
  const SignedTransfer& tx;
  Hash hash;
  std::size_t wire_bytes = 0;
  Account account;  // the sender's committed account
  std::uint64_t admitted_height = 0;
};

Mempool::Mempool(std::string chain_id, MempoolLimits limits, SignatureCache& signatures)
    : chain_id_(std::move(chain_id)), limits_(limits), signatures_(signatures) {
  LEDGER_ASSERT(limits_.validate().is_ok());
}

StatusOr<Hash> Mempool::admit(const SignedTransfer& tx, const AccountReader& committed_state,
                              const CommittedLookup& is_committed, std::uint64_t committed_height) {
  const Transfer& transfer = tx.transfer;
  // 0-2: the transaction alone.
  Status format = validate_transfer(transfer);
  if (!format.is_ok()) return format.with_context("malformed transaction");
  const std::size_t wire_bytes = encode_transaction(tx).size();
  if (wire_bytes > limits_.tx_bytes_max) {
    return Status::invalid_argument("transaction is " + count(wire_bytes, "bytes") +
                                    ", above the limit of " + std::to_string(limits_.tx_bytes_max) +
                                    " (genesis consensus.transaction_bytes_max)");
  }
  if (transfer.chain_id != chain_id_) {
    return Status::invalid_argument("wrong chain id \"" + transfer.chain_id +
                                    "\", this node runs \"" + chain_id_ + "\"");
  }
  // 3: duplicates. Checked again under the lock before inserting (admit_locked).
  const Hash hash = transaction_hash(tx);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (by_hash_.contains(hash)) {
      return Status::already_exists("transaction " + hash.hex() + " is already pending");
    }
  }
  if (is_committed && is_committed(hash)) {
    return Status::already_exists("transaction " + hash.hex() + " is already committed");
  }
  // 4: the signature, outside the lock (the cache verifies outside its own).
  if (!signatures_.verify(tx, hash)) {
    return Status::invalid_argument("invalid signature: transaction " + hash.hex() +
                                    " is not signed by its sender " + transfer.sender.hex());
  }
  // 5 (window): against the committed account, read outside the lock.
  auto account = committed_state.account(transfer.sender);
  if (!account.is_ok()) {
    return account.status().with_context("reading the account of sender " + transfer.sender.hex());
  }
  if (transfer.nonce < account->nonce) {
    return Status::failed_precondition("nonce " + std::to_string(transfer.nonce) +
                                       " is below the account's next nonce " +
                                       std::to_string(account->nonce));
  }
  if (transfer.nonce - account->nonce >= limits_.nonce_window) {
    return Status::failed_precondition(
        "nonce " + std::to_string(transfer.nonce) + " is beyond the admission window (next nonce " +
        std::to_string(account->nonce) + ", window " + std::to_string(limits_.nonce_window) + ")");
  }
  const Candidate candidate{tx, hash, wire_bytes, *account, committed_height};
  std::lock_guard<std::mutex> lock(mutex_);
  LEDGER_RETURN_IF_ERROR(admit_locked(candidate));
  return hash;
}

Status Mempool::admit_locked(const Candidate& candidate) {
  const Transfer& transfer = candidate.tx.transfer;
  // 3 again: another thread may have admitted the same transaction since the first check.
  if (by_hash_.contains(candidate.hash)) {
    return Status::already_exists("transaction " + candidate.hash.hex() + " is already pending");
  }
  // 5 (slot): one pending transaction per (sender, nonce).
  auto sender = senders_.find(transfer.sender);
  if (sender != senders_.end()) {
    auto taken = sender->second.by_nonce.find(transfer.nonce);
    if (taken != sender->second.by_nonce.end()) {
      return Status::already_exists("sender " + transfer.sender.hex() +
                                    " already has transaction " + taken->second.hash.hex() +
                                    " pending at nonce " + std::to_string(transfer.nonce));
    }
  }
  // 6: funds. Only the committed balance is known here; execution decides the rest.
  if (transfer.amount > candidate.account.balance) {
    return Status::failed_precondition("insufficient funds: amount " +
                                       std::to_string(transfer.amount) + " exceeds balance " +
                                       std::to_string(candidate.account.balance));
  }
  // 7: capacity.
  if (by_hash_.size() >= limits_.txs_max) {
    return Status::resource_exhausted("mempool full: " + count(by_hash_.size(), "transactions") +
                                      " (mempool.txs_max)");
  }
  if (bytes_ + candidate.wire_bytes > limits_.bytes_max) {
    return Status::resource_exhausted("mempool full: " + count(bytes_, "bytes") + " pending, a " +
                                      std::to_string(candidate.wire_bytes) +
                                      "-byte transaction would exceed " +
                                      std::to_string(limits_.bytes_max) + " (mempool.bytes_max)");
  }
  const std::size_t sender_count = sender == senders_.end() ? 0 : sender->second.by_nonce.size();
  if (sender_count >= limits_.per_sender_max) {
    return Status::resource_exhausted("sender " + transfer.sender.hex() + " has " +
                                      count(sender_count, "pending transactions") +
                                      " (mempool.per_sender_max)");
  }
  insert_locked(candidate);
  return Status::ok();
}

void Mempool::insert_locked(const Candidate& candidate) {
  const Transfer& transfer = candidate.tx.transfer;
  auto [sender, is_new] = senders_.try_emplace(transfer.sender);
  if (is_new) {
    sender->second.arrival = next_arrival_++;
    by_arrival_.emplace(sender->second.arrival, transfer.sender);
  }
  Entry entry{candidate.tx, candidate.hash, candidate.wire_bytes, candidate.admitted_height,
              by_height_.emplace(candidate.admitted_height, candidate.hash)};
  const bool inserted = sender->second.by_nonce.emplace(transfer.nonce, std::move(entry)).second;
  LEDGER_ASSERT(inserted);
  by_hash_.emplace(candidate.hash, Location{transfer.sender, transfer.nonce});
  bytes_ += candidate.wire_bytes;
  LEDGER_ASSERT(by_hash_.size() <= limits_.txs_max);
  LEDGER_ASSERT(bytes_ <= limits_.bytes_max);
  LEDGER_ASSERT(by_height_.size() == by_hash_.size());
  LEDGER_ASSERT(by_arrival_.size() == senders_.size());
}

std::optional<SignedTransfer> Mempool::find(const Hash& tx_hash) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto location = by_hash_.find(tx_hash);
  if (location == by_hash_.end()) return std::nullopt;
  const Sender& sender = senders_.at(location->second.sender);
  return sender.by_nonce.at(location->second.nonce).tx;
}

StatusOr<std::vector<SignedTransfer>> Mempool::select(const BlockLimits& limits,
                                                      const AccountReader& state) const {
  std::vector<SignedTransfer> out;
  std::uint64_t out_bytes = 0;
  std::optional<std::uint64_t> last_arrival;  // the last sender looked at, in arrival order
  for (;;) {
    // The next senders in arrival order, then their nonces read without the lock.
    std::vector<std::pair<std::uint64_t, Address>> batch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = last_arrival ? by_arrival_.upper_bound(*last_arrival) : by_arrival_.begin();
      for (; it != by_arrival_.end() && batch.size() < kSelectSendersPerRead; ++it)
        batch.emplace_back(*it);
    }
    if (batch.empty()) return out;
    last_arrival = batch.back().first;
    std::vector<std::uint64_t> nonces;
    nonces.reserve(batch.size());
    for (const auto& [arrival, address] : batch) {
      LEDGER_ASSIGN_OR_RETURN(const Account account, state.account(address));
      nonces.push_back(account.nonce);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto sender = senders_.find(batch[i].second);
      // Gone since; if it came back it has a later arrival and is visited then.
      if (sender == senders_.end() || sender->second.arrival != batch[i].first) continue;
      if (!take_locked(sender->second, nonces[i], limits, out, out_bytes)) return out;
    }
  }
}

bool Mempool::take_locked(const Sender& sender, std::uint64_t nonce, const BlockLimits& limits,
                          std::vector<SignedTransfer>& out, std::uint64_t& out_bytes) const {
  for (auto it = sender.by_nonce.find(nonce); it != sender.by_nonce.end() && it->first == nonce;
       ++it) {
    const Entry& entry = it->second;
    if (out.size() >= limits.transactions_max) return false;
    if (entry.wire_bytes > limits.bytes_max - out_bytes) return false;
    out.push_back(entry.tx);
    out_bytes += entry.wire_bytes;
    if (nonce == std::numeric_limits<std::uint64_t>::max()) break;
    ++nonce;
  }
  LEDGER_ASSERT(out_bytes <= limits.bytes_max);
  return true;
}

Status Mempool::on_commit(const Block& block, const AccountReader& committed_state) {
  std::vector<Hash> included;
  included.reserve(block.transactions.size());
  std::set<Address> block_senders;
  for (const SignedTransfer& tx : block.transactions) {
    included.push_back(transaction_hash(tx));
    block_senders.insert(tx.transfer.sender);
  }
  std::vector<Address> pending_senders;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Hash& hash : included)
      erase_by_hash_locked(hash);
    evict_expired_locked(block.header.height);
    for (const Address& address : block_senders) {
      if (senders_.contains(address)) pending_senders.push_back(address);
    }
  }
  // Committed nonces, read outside the lock; a sender admitted meanwhile was checked against
  // the same committed state, so nothing it added is stale.
  std::vector<std::uint64_t> nonces;
  nonces.reserve(pending_senders.size());
  for (const Address& address : pending_senders) {
    auto account = committed_state.account(address);
    if (!account.is_ok()) {
      return account.status().with_context("mempool: reading the account of sender " +
                                           address.hex());
    }
    nonces.push_back(account->nonce);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t i = 0; i < pending_senders.size(); ++i)
    evict_below_nonce_locked(pending_senders[i], nonces[i]);
  return Status::ok();
}

void Mempool::erase_by_hash_locked(const Hash& tx_hash) {
  auto location = by_hash_.find(tx_hash);
  if (location == by_hash_.end()) return;
  auto sender = senders_.find(location->second.sender);
  LEDGER_ASSERT(sender != senders_.end());
  auto entry = sender->second.by_nonce.find(location->second.nonce);
  LEDGER_ASSERT(entry != sender->second.by_nonce.end());
  erase_locked(sender, entry);
}

void Mempool::evict_below_nonce_locked(const Address& address, std::uint64_t nonce) {
  auto sender = senders_.find(address);
  if (sender == senders_.end()) return;
  for (;;) {
    auto oldest = sender->second.by_nonce.begin();
    if (oldest->first >= nonce) return;
    if (erase_locked(sender, oldest)) return;
  }
}

void Mempool::evict_expired_locked(std::uint64_t height) {
  // admitted_height + ttl_blocks < height, without overflow.
  while (!by_height_.empty()) {
    const std::uint64_t admitted = by_height_.begin()->first;
    if (admitted >= height || height - admitted <= limits_.ttl_blocks) return;
    const Hash hash = by_height_.begin()->second;  // a copy: erasing frees the node
    erase_by_hash_locked(hash);
  }
}

bool Mempool::erase_locked(std::map<Address, Sender>::iterator sender,
                           std::map<std::uint64_t, Entry>::iterator entry) {
  const Entry& e = entry->second;
  LEDGER_ASSERT(bytes_ >= e.wire_bytes);
  bytes_ -= e.wire_bytes;
  by_height_.erase(e.expiry);
  const std::size_t erased = by_hash_.erase(e.hash);
  LEDGER_ASSERT(erased == 1);
  sender->second.by_nonce.erase(entry);
  LEDGER_ASSERT(by_height_.size() == by_hash_.size());
  if (!sender->second.by_nonce.empty()) return false;
  by_arrival_.erase(sender->second.arrival);
  senders_.erase(sender);
  LEDGER_ASSERT(by_arrival_.size() == senders_.size());
  return true;
}

std::size_t Mempool::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_hash_.size();
}

std::size_t Mempool::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

}  // namespace ledger::node
