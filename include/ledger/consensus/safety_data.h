// The consensus safety data and the store that keeps it durable (DESIGN.md section 3).
//
// Declared here, by consensus, and implemented by storage/ (RocksDB and in-memory). The
// contract that makes voting safe across crashes: save() returns only once the data is durable
// (fsynced), and nothing signed under the new data leaves the node before save() returns.
#pragma once

#include <cstdint>
#include <optional>

#include "ledger/core/certificates.h"
#include "ledger/core/status.h"

namespace ledger::consensus {

struct SafetyData {
  std::uint64_t last_voted_round = 0;   // highest round voted or timed out in; never decreases
  std::uint64_t one_chain_round = 0;    // highest QC round seen in a voted block; never decreases
  std::optional<Vote> last_vote;        // the vote of last_voted_round, resent if asked again
  std::optional<Timeout> last_timeout;  // the timeout of its round, resent while in that round
  // A verified QC of round one_chain_round (absent while that is 0, and in data saved by version
  // 1). Saved with the vote that raised one_chain_round, so that a crash before the host
  // persisted its high QC cannot leave a replica whose high QC is below one_chain_round: such a
  // replica could never time out (safe_to_timeout) until a peer sent it a newer QC.
  std::optional<QuorumCert> one_chain_qc;

  friend bool operator==(const SafetyData&, const SafetyData&) = default;
};

Bytes encode_safety_data(const SafetyData& data);
StatusOr<SafetyData> decode_safety_data(ByteView bytes);

// Thread-compatible: callers serialise access.
class SafetyStore {
 public:
  virtual ~SafetyStore() = default;
  // Durably replaces the stored data. Returns kIoError if it could not be made durable, in
  // which case the caller must not release anything signed under `data`.
  virtual Status save(const SafetyData& data) = 0;
  // The last saved data, or nullopt if nothing was ever saved. kCorruption if it does not decode.
  virtual StatusOr<std::optional<SafetyData>> load() const = 0;
};

}  // namespace ledger::consensus
