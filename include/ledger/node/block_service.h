// Answers other validators' block requests (consensus fetches of missing ancestors) from the
// replica's tree of uncommitted blocks and then from the chain store, within per-peer limits
// (docs/architecture.md).
// Inputs: the asking peer, its request, the replica's tree (nullptr on a full node), the time
// now (ms, from the shell's clock). Output: the response to send, or nullopt when the peer is
// over its request rate or its byte rate (the request is dropped; the shell logs it).
//
// Byte rate: a token bucket of bytes per peer, holding at most bytes_per_second and refilled at
// that rate. A request is answered only while the peer's bytes are positive; the answer holds
// no more blocks than they pay for (its first block always goes, within response_bytes_max),
// and its size is then taken, possibly into debt. So a peer that asks for large blocks is sent
// about bytes_per_second a second, plus one answer.
//
// Buckets are kept by peer key across reconnects: forgetting a peer's bucket when it disconnects
// would hand it a full budget for the price of a reconnect. At peers_max keys, a new peer's
// bucket takes the place of a full one (forgetting it changes nothing), else of a disconnected
// peer's, else of the one refilled longest ago; a connected peer that keeps spending keeps its
// debt.
//
// Thread-compatible: the event loop (or the simulator) calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "ledger/consensus/block_tree.h"
#include "ledger/consensus/messages.h"
#include "ledger/storage/chain_store.h"

namespace ledger::node {

class BlockService {
 public:
  struct Options {
    std::uint32_t fetch_blocks_max = 64;           // blocks in one response
    std::uint64_t response_bytes_max = 64u << 20;  // encoded blocks in one response
    std::uint32_t requests_per_second = 50;        // per peer, sustained
    std::uint32_t requests_burst = 100;            // per peer, at once
    std::size_t peers_max = 1024;                  // peers whose rate is tracked
    std::uint64_t bytes_per_second = 16u << 20;    // per peer, sustained and burst (>= 1)
  };

  // `store` must outlive the service.
  BlockService(Options options, const storage::ChainStore& store);

  // Asserts nothing about the request: any block id and count are answered or dropped.
  std::optional<consensus::BlockResponse> answer(const PublicKey& peer,
                                                 const consensus::BlockRequest& request,
                                                 const consensus::BlockTree* tree,
                                                 std::uint64_t now_ms);
  // The peer disconnected: its bucket is kept (see above), first in line to be forgotten.
  void on_peer_gone(const PublicKey& peer);
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Bucket {
    std::uint64_t milli_tokens = 0;  // <= requests_burst * 1000
    std::int64_t bytes = 0;          // <= bytes_per_second; below 0 by at most one answer
    std::uint64_t updated_ms = 0;
    bool connected = true;  // false after on_peer_gone, until the peer asks again
  };
  // Brings the bucket's tokens up to now_ms.
  void refill(Bucket& bucket, std::uint64_t now_ms) const;
  // Forgets one bucket to make room (peers_max reached), as said above.
  void evict_one(std::uint64_t now_ms);
  // Takes a request token; the bucket if one was there and its bytes are positive.
  Bucket* take_token(const PublicKey& peer, std::uint64_t now_ms);

  Options options_;
  const storage::ChainStore& store_;
  std::map<PublicKey, Bucket> buckets_;  // at most peers_max entries
  std::uint64_t dropped_ = 0;
};

}  // namespace ledger::node
