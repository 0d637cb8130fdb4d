// One TCP connection to a peer (internal to ledger_p2p): the handshake, then encrypted frames
// in both directions. Runs on the transport's io_context thread only.
//
// Lifetime: owned by shared_ptr; every pending asynchronous operation holds one, so a closed
// connection lives until its handlers have run (they see phase kClosed and return). The owner
// (the transport) is told of every close exactly once through ConnectionOwner::on_closed,
// unless it detached itself first (stop()).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "ledger/core/bytes.h"
#include "ledger/core/hash.h"
#include "ledger/core/keys.h"
#include "ledger/core/status.h"
#include "ledger/node/p2p/frame_cipher.h"
#include "ledger/node/p2p/handshake.h"
#include "ledger/node/p2p/transport.h"

namespace ledger::node::p2p {

// What every connection of a transport shares; immutable after start.
struct ConnectionSettings {
  ConnectionSettings(Signer signer_in, const TransportOptions& options)
      : signer(std::move(signer_in)),
        chain_id(options.chain_id),
        frame_bytes_max(options.frame_bytes_max),
        send_queue_bytes_max(options.send_queue_bytes_max),
        handshake_timeout(options.handshake_timeout),
        write_timeout(options.write_timeout) {}

  Signer signer;  // the node key; signs the auth payload
  std::string chain_id;
  std::uint64_t frame_bytes_max;
  std::uint64_t send_queue_bytes_max;
  std::chrono::milliseconds handshake_timeout;
  std::chrono::milliseconds write_timeout;
};

class Connection;

// How a connection reports to its transport. Called synchronously on the io thread.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // The peer proved `key` (role and signature checked, not itself, the expected key if dialed).
  // A non-ok Status refuses the peer with its message (key policy).
  virtual Status authorize(const PublicKey& key) = 0;
  // The handshake completed. The owner registers the connection or closes it (duplicate).
  virtual void on_authenticated(const std::shared_ptr<Connection>& connection) = 0;
  // One decrypted payload from an authenticated connection.
  virtual void on_payload(Connection& connection, Bytes payload) = 0;
  // The connection closed, whatever the reason. Called once; the last call made.
  virtual void on_closed(Connection& connection) = 0;
};

// How a close is logged and counted.
enum class CloseKind {
  kRefused,          // handshaking; this side refused the peer: warn, handshakes_refused
  kHandshakeFailed,  // handshaking; closed by the peer or an I/O error: info, handshakes_failed
  kDropped,          // authenticated; this side dropped the peer for a fault: warn, peers_dropped
  kDisconnected,     // authenticated; closed by the peer or an I/O error: info
  kClosed,           // closed by this side for a normal reason (duplicate, disabled): info
  kSilent,           // stop(): not logged
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Phase {
    kHello,   // hello sent, reading the peer's hello
    kAuth,    // keys derived, auth frame sent, reading the peer's auth frame
    kOpen,    // authenticated: application frames
    kClosed,  // socket closed; handlers still pending return at once
  };

  // `dialed_key` is the key expected of the peer when this side dialed it (role kInitiator).
  Connection(boost::asio::ip::tcp::socket socket, Role role, std::string remote,
             std::optional<PublicKey> dialed_key,
             std::shared_ptr<const ConnectionSettings> settings, ConnectionOwner* owner,
             Transport::Counters* counters);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sets socket options, arms the handshake timer, sends the hello and starts reading.
  void start();
  // Queues a payload (phase kOpen). If the queue would exceed send_queue_bytes_max the peer is
  // dropped and false returned.
  bool queue_payload(std::shared_ptr<const Bytes> payload);
  // Closes the socket (idempotent): logs and counts per `kind`, then tells the owner.
  void close(CloseKind kind, std::string_view reason);
  // Forgets the owner and counters: no further calls into the transport (stop()).
  void detach() {
    owner_ = nullptr;
    counters_ = nullptr;
  }

  Phase phase() const { return phase_; }
  Role role() const { return role_; }
  const std::string& remote() const { return remote_; }
  const std::optional<PublicKey>& dialed_key() const { return dialed_key_; }
  // Set once the peer proved its key (phase kOpen, or kClosed after it).
  const std::optional<PublicKey>& peer_key() const { return peer_key_; }
  // "ab12cd34ef56 (127.0.0.1:26656)", or the address (and the dialed key) before auth.
  std::string describe() const;
  std::uint64_t queued_bytes() const { return queued_bytes_; }
  // When the peer proved its key (entering kOpen).
  std::chrono::steady_clock::time_point authenticated_at() const { return authenticated_at_; }

  // Whether the transport holds this as the one connection of its key (owner's bookkeeping).
  bool registered = false;

 private:
  void read_header();
  void on_header(const boost::system::error_code& error);
  void on_body(const boost::system::error_code& error);
  void on_hello(ByteView body);
  void on_auth_frame(ByteView body);
  void on_data_frame(ByteView body);
  void on_read_error(const boost::system::error_code& error);
  // Refuses while handshaking, drops once authenticated.
  void fail(std::string_view reason);

  void queue_raw(Bytes frame);
  void start_write();
  void on_written(const boost::system::error_code& error, std::uint64_t generation);
  void on_write_timeout(std::uint64_t generation);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer write_timer_;
  const Role role_;
  const std::string remote_;                   // "host:port" of the peer
  const std::optional<PublicKey> dialed_key_;  // set iff role_ is kInitiator
  const std::shared_ptr<const ConnectionSettings> settings_;
  ConnectionOwner* owner_;         // null once detached or closed
  Transport::Counters* counters_;  // null once detached
  Phase phase_ = Phase::kHello;

  std::optional<HandshakeState> handshake_;                 // set in kHello only
  Hash transcript_;                                         // set from kAuth on
  std::optional<FrameSealer> sealer_;                       // set from kAuth on
  std::optional<FrameOpener> opener_;                       // set from kAuth on
  std::optional<PublicKey> peer_key_;                       // set on entering kOpen
  std::chrono::steady_clock::time_point authenticated_at_;  // set on entering kOpen

  std::array<std::uint8_t, kFrameHeaderBytes> header_{};
  Bytes body_;  // the body being read; its size was checked against the phase's limit

  std::deque<Bytes> raw_out_;  // hello and auth frames, written before any payload
  std::deque<std::shared_ptr<const Bytes>> payloads_;  // sealed when their write starts
  Bytes out_;                                          // the batch being written
  std::uint64_t out_payload_frames_ = 0;               // payload frames in out_
  std::uint64_t out_payload_bytes_ = 0;                // payload bytes in out_
  bool writing_ = false;                               // one async_write at a time
  std::uint64_t write_generation_ = 0;                 // which write the write timer belongs to
  std::uint64_t queued_bytes_ = 0;  // payload bytes of payloads_ and out_ (what the limit bounds)
};

// The first 12 hex characters of a key, as logs show it.
std::string short_key(const PublicKey& key);

}  // namespace ledger::node::p2p
