#include "signing_mark.h"

#include <fstream>
#include <iterator>

#include "ledger/storage/file_io.h"

namespace ledger::node {

MarkingSafetyStore::MarkingSafetyStore(consensus::SafetyStore& inner,
                                       const std::filesystem::path& home,
                                       const std::string& chain_id, const PublicKey& key)
    : inner_(inner),
      text_("{\"chain_id\": \"" + chain_id + "\", \"validator\": \"" + key.hex() + "\"}\n"),
      chain_id_(chain_id),
      key_(key) {
  if (!home.empty()) mark_ = home / "keys" / "validator-signed";
  written_ = mark_.empty() || marked();
}

bool MarkingSafetyStore::marked() const {
  std::ifstream in(mark_);
  if (!in) return false;
  const std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return stored == text_;
}

Status MarkingSafetyStore::check() const {
  LEDGER_ASSIGN_OR_RETURN(const auto data, inner_.load());
  if (data || mark_.empty() || !marked()) return Status::ok();
  return Status::failed_precondition(
      "validator key " + key_.hex() + " has signed consensus messages on chain " + chain_id_ +
      " before (" + mark_.string() +
      "), but the data directory holds no safety data: starting now could sign a round it "
      "already signed (double signing). Restore the data directory; or, only if this key "
      "never signed on this chain, remove " +
      mark_.string());
}

Status MarkingSafetyStore::save(const consensus::SafetyData& data) {
  if (!written_) {
    LEDGER_RETURN_IF_ERROR(storage::write_file_atomically(mark_, text_, 0600));
    written_ = true;
  }
  return inner_.save(data);
}

}  // namespace ledger::node
