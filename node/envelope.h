// Small helpers for the p2p Envelope (node/proto/ledger/p2p/v1/p2p.proto) shared by the node's
// network shells: peer_network.cpp, gossip.cpp and sync_driver.cpp.
#pragma once

#include <memory>
#include <string>

#include "ledger/core/assert.h"
#include "ledger/core/bytes.h"
#include "ledger/core/keys.h"
#include "ledger/p2p/v1/p2p.pb.h"

namespace ledger::node {

// How log lines name a peer: the first 12 hex digits of its key.
inline std::string peer_name(const PublicKey& key) {
  return to_hex(key.bytes).substr(0, 12);
}

inline std::shared_ptr<const Bytes> serialize(const ::ledger::p2p::v1::Envelope& envelope) {
  auto out = std::make_shared<Bytes>(envelope.ByteSizeLong());
  const bool ok = envelope.SerializeToArray(out->data(), static_cast<int>(out->size()));
  LEDGER_ASSERT(ok);
  return out;
}

inline std::string as_string(const Bytes& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

inline Bytes to_bytes(const std::string& text) {
  return Bytes(text.begin(), text.end());
}

}  // namespace ledger::node
