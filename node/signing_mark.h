// The signing mark: keys/validator-signed in the home directory, outside data_dir (issue 11,
// point 8; docs/operator.md). Safety data lives in data_dir, so a validator restarted with a
// fresh data directory and the same key would start from last_voted_round 0 and could sign a
// round it signed before. The mark says "this key may have signed on this chain": with the mark
// and no safety data, ledgerd refuses to start and says why.
//
// The mark is written, synced, right before the first save of safety data, and safety data is
// saved before anything it covers is signed (persist-before-send). So a node that stops before
// it ever signed leaves no mark and restarts; a node that signed has both. A crash between the
// mark and the first save leaves the mark alone (a refusal the operator can lift, as the message
// says), never safety data without the mark.
#pragma once

#include <filesystem>
#include <string>

#include "ledger/consensus/safety_data.h"
#include "ledger/core/keys.h"

namespace ledger::node {

// A SafetyStore that writes the mark before the first save it passes on.
class MarkingSafetyStore final : public consensus::SafetyStore {
 public:
  // `inner` must outlive this object. An empty `home` (embedded use) writes no mark.
  MarkingSafetyStore(consensus::SafetyStore& inner, const std::filesystem::path& home,
                     const std::string& chain_id, const PublicKey& key);

  // kFailedPrecondition, naming the risk and the way out, if the mark is there for this chain
  // and key but `inner` holds no safety data; kCorruption from inner.load().
  Status check() const;

  Status save(const consensus::SafetyData& data) override;
  StatusOr<std::optional<consensus::SafetyData>> load() const override { return inner_.load(); }

  const std::filesystem::path& mark() const { return mark_; }

 private:
  bool marked() const;  // the mark exists and names this chain and key

  consensus::SafetyStore& inner_;
  std::filesystem::path mark_;  // empty: no home, no mark
  std::string text_;            // the mark's content
  bool written_ = false;        // known to be on disk
  std::string chain_id_;
  PublicKey key_;
};

}  // namespace ledger::node
