// The peer-to-peer transport: a TCP listener, dialers that keep configured peers connected,
// the authenticated handshake (handshake.h) and encrypted frames (frame_cipher.h) on every
// connection, and at most one authenticated connection per peer key. Payloads are opaque
// bytes; the node puts protobuf messages in them. The wire protocol, the log lines and the
// limits are in docs/p2p.md.
//
// Threading: everything runs on one boost::asio::io_context that the caller runs on ONE
// thread. Every method of Transport must be called on that thread (the node calls them from
// its event loop, which runs the io_context), and every Handler callback is made on it. No
// method blocks except start(), which may resolve a listen host name.
//
// Callbacks are never made from inside a Transport method: they are queued and delivered from
// the io_context in order, so a handler may call send(), set_enabled() or stop() freely.
// on_connected and on_disconnected alternate per peer key, starting with on_connected; no
// callback is made after stop() (a peer connected at stop() gets no on_disconnected).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "ledger/core/bytes.h"
#include "ledger/core/keys.h"
#include "ledger/core/status.h"

namespace ledger::node::p2p {

struct PeerAddress {
  PublicKey key;
  std::string host;  // a name or an IP literal, IPv6 without brackets
  std::uint16_t port = 0;

  // "<64 hex key>@host:port", IPv6 hosts in brackets.
  std::string to_string() const;
  friend bool operator==(const PeerAddress&, const PeerAddress&) = default;
};

// Parses "<64 lowercase hex key>@host:port"; the host may be "[v6]". kInvalidArgument naming
// the part that is wrong: no '@', a bad key, a missing or bad host, a port outside 1..65535.
StatusOr<PeerAddress> parse_peer_address(std::string_view text);

struct TransportOptions {
  std::string chain_id;                      // a valid chain id; peers on another chain are refused
  std::string listen = "127.0.0.1:0";        // host:port; port 0 picks a free one
  std::vector<PeerAddress> peers;            // dialed and kept connected; own key and repeated keys
                                             // are skipped with a warning
  std::set<PublicKey> validators;            // always accepted
  bool accept_unknown_peers = false;         // accept keys that are neither validators nor peers
  std::uint64_t frame_bytes_max = 64 << 20;  // payload bytes, 1..kFramePayloadBytesLimit
  std::uint64_t send_queue_bytes_max = 256 << 20;  // per peer: payload bytes not yet written,
                                                   // >= frame_bytes_max; exceeding it drops
                                                   // the peer
  std::size_t connections_max = 64;  // authenticated + handshaking, inbound + outbound; an
                                     // inbound connection beyond it is closed at accept
  std::chrono::milliseconds handshake_timeout{5000};  // from TCP connect to authenticated
  std::chrono::milliseconds write_timeout{10000};     // one write; a stalled peer is dropped
  std::chrono::milliseconds dial_backoff_min{100};    // first redial delay (with jitter)
  std::chrono::milliseconds dial_backoff_max{5000};   // doubling stops here
};

class Transport {
 public:
  class Handler {  // called on the io_context thread only, never from inside a Transport call
   public:
    virtual ~Handler() = default;
    // `peer` proved its key and is the one connection kept for that key.
    virtual void on_connected(const PublicKey& peer) = 0;
    // The connection to `peer` closed (any reason). Frames queued for it are lost. A duplicate
    // connection that replaces the current one (simultaneous dial, or the peer redialed)
    // shows as on_disconnected then on_connected.
    virtual void on_disconnected(const PublicKey& peer) = 0;
    // One payload from `peer`, in the order the peer sent them, after on_connected.
    virtual void on_frame(const PublicKey& peer, Bytes payload) = 0;
  };

  // Binds and listens at once, then starts dialing the peers; runs on `io`. `handler` and `io`
  // outlive the transport. Errors: kInvalidArgument for a bad listen address, chain id or
  // option (the message names it); kIoError naming the address if bind or listen fails;
  // kInternal if OpenSSL or libsecp256k1 fail.
  static StatusOr<std::unique_ptr<Transport>> start(boost::asio::io_context& io,
                                                    const SecretKey& node_key,
                                                    TransportOptions options, Handler& handler);
  ~Transport();  // stop(); must run on the io thread or after the io_context stopped
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // The bound address, "127.0.0.1:<port>" ("[::1]:<port>" for IPv6).
  std::string listen_address() const;
  // This node's key (what peers must list).
  const PublicKey& node_key() const;

  // Queues `payload` (not null) for a connected, authenticated peer and returns true. False if
  // the peer is not connected, the transport is disabled or stopped, or payload is larger than
  // frame_bytes_max (a caller bug: logged at error). If the queue would exceed
  // send_queue_bytes_max the peer is dropped (logged at warn, on_disconnected follows) and
  // false returned. The payload is shared, not copied, until it is encrypted.
  bool send(const PublicKey& peer, std::shared_ptr<const Bytes> payload);
  // Authenticated peers, in key order.
  std::vector<PublicKey> connected() const;
  bool is_connected(const PublicKey& peer) const;

  // Fault injection (admin): false closes every connection (on_disconnected follows for the
  // connected ones), stops dialing and refuses inbound connections at accept; true resumes and
  // dials every configured peer at once.
  void set_enabled(bool enabled);
  bool enabled() const;

  // Idempotent: closes the acceptor and every connection, cancels timers. No callback after it.
  void stop();

  struct Counters {
    std::uint64_t handshakes_ok = 0;        // connections that authenticated
    std::uint64_t handshakes_refused = 0;   // this side refused the peer (a check, a timeout)
    std::uint64_t handshakes_failed = 0;    // closed by the peer or an I/O error mid-handshake
    std::uint64_t connections_refused = 0;  // closed at accept: disabled or connections_max
    std::uint64_t frames_in = 0;            // payload frames received (auth frames excluded)
    std::uint64_t frames_out = 0;           // payload frames written
    std::uint64_t bytes_in = 0;             // bytes received, handshake and headers included
    std::uint64_t bytes_out = 0;            // bytes written, handshake and headers included
    std::uint64_t peers_dropped = 0;        // authenticated peers this side dropped for a fault
    std::uint64_t connections_open = 0;     // gauge: handshaking + authenticated right now
  };
  Counters counters() const;

 private:
  struct Impl;
  explicit Transport(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace ledger::node::p2p
