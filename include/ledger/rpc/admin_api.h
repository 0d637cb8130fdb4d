// The narrow interface the ledger.v1.Admin service (rpc/proto/ledger/v1/admin.proto) needs from
// a node: fault injection for local testnets. node/ implements it; rpc/ serves it, only when
// ServerOptions::admin is set (loopback only, see config.toml rpc.admin).
//
// Thread-safety: every method may be called concurrently from any gRPC thread.
#pragma once

#include <vector>

#include "ledger/core/keys.h"
#include "ledger/core/status.h"

namespace ledger::rpc {

struct NetworkView {
  bool enabled = true;                     // peer-to-peer networking is on
  std::vector<PublicKey> connected_peers;  // authenticated peers now, in key order
};

class AdminApi {
 public:
  virtual ~AdminApi() = default;

  // Turns peer-to-peer networking off (every peer connection is closed, no dialing, inbound
  // connections refused) or on again (every configured peer is dialed at once). Idempotent.
  // Once it returns OK, network().enabled is `enabled`; connections follow on the node's own
  // thread shortly after. Errors: kUnavailable when the node is shutting down;
  // kFailedPrecondition if the node has no networking to switch (the message says why).
  virtual Status set_network_enabled(bool enabled) = 0;

  // A snapshot; connected_peers may lag a set_network_enabled by the time the node's thread
  // takes to close or open the connections.
  virtual NetworkView network() const = 0;
};

}  // namespace ledger::rpc
