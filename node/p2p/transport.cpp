#include "ledger/node/p2p/transport.h"

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <unordered_map>
#include <utility>

#include "address.h"
#include "connection.h"
#include "ledger/core/chain_id.h"

namespace ledger::node::p2p {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Events delivered to the handler per turn of the io_context before yielding to other work.
constexpr std::size_t kEventsPerDrain = 1024;
// Two connections to one peer that authenticate within this many handshake timeouts of each
// other are treated as a simultaneous dial (docs/p2p.md, "Connection rules").
constexpr int kTwinWindowTimeouts = 2;
// Pause before accepting again after accept itself failed (e.g. out of file descriptors).
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

std::string endpoint_text(const tcp::endpoint& endpoint) {
  return format_host_port(endpoint.address().to_string(), endpoint.port());
}

Status validate_options(const TransportOptions& o) {
  Status chain = validate_chain_id(o.chain_id);
  if (!chain.is_ok()) return chain.with_context("p2p chain id");
  if (o.frame_bytes_max < 1 || o.frame_bytes_max > kFramePayloadBytesLimit) {
    return Status::invalid_argument("p2p frame_bytes_max must be 1 to " +
                                    std::to_string(kFramePayloadBytesLimit) + ", got " +
                                    std::to_string(o.frame_bytes_max));
  }
  if (o.send_queue_bytes_max < o.frame_bytes_max) {
    return Status::invalid_argument(
        "p2p send_queue_bytes_max (" + std::to_string(o.send_queue_bytes_max) +
        ") must be at least frame_bytes_max (" + std::to_string(o.frame_bytes_max) + ")");
  }
  if (o.connections_max < 1) return Status::invalid_argument("p2p connections_max must be >= 1");
  using std::chrono::milliseconds;
  if (o.handshake_timeout <= milliseconds(0) || o.write_timeout <= milliseconds(0) ||
      o.dial_backoff_min <= milliseconds(0) || o.dial_backoff_max < o.dial_backoff_min) {
    return Status::invalid_argument(
        "p2p timeouts must be positive and dial_backoff_max at least dial_backoff_min");
  }
  return Status::ok();
}

}  // namespace

// A configured peer and the state of keeping it connected.
struct Dialer {
  enum class State {
    kIdle,        // nothing pending (the peer is connected, or dialing is off)
    kWaiting,     // timer armed for the next attempt
    kResolving,   // async_resolve pending
    kConnecting,  // async_connect pending on `socket`
    kConnected,   // a connection made by this dialer is handshaking or open
  };

  Dialer(asio::io_context& io, PeerAddress address_in, std::chrono::milliseconds backoff_in)
      : address(std::move(address_in)), timer(io), backoff(backoff_in) {}

  PeerAddress address;
  asio::steady_timer timer;
  // Set in kConnecting only. Shared with the pending async_connect, which refers to the socket
  // until its handler runs, even after a cancel.
  std::shared_ptr<tcp::socket> socket;
  State state = State::kIdle;
  std::chrono::milliseconds backoff;  // the next delay before jitter; doubles per failure
  std::uint64_t generation = 0;       // bumped by cancel(); older callbacks are ignored
  std::string error_last;             // to log a repeated dial error once, not every attempt
};

struct Transport::Impl final : ConnectionOwner, std::enable_shared_from_this<Impl> {
  struct Event {
    enum class Kind { kConnected, kDisconnected, kFrame } kind;
    PublicKey peer;
    Bytes payload;  // kFrame only
  };

  Impl(asio::io_context& io_in, Handler& handler_in, TransportOptions options_in,
       std::shared_ptr<const ConnectionSettings> settings_in)
      : io(io_in),
        handler(handler_in),
        options(std::move(options_in)),
        settings(std::move(settings_in)),
        acceptor(io_in),
        accept_retry_timer(io_in),
        resolver(io_in),
        rng(std::random_device{}()) {}

  // ---- ConnectionOwner.
  Status authorize(const PublicKey& key) override;
  void on_authenticated(const std::shared_ptr<Connection>& connection) override;
  void on_payload(Connection& connection, Bytes payload) override;
  void on_closed(Connection& connection) override;

  Status listen();
  void accept();
  void on_accept(const boost::system::error_code& error, tcp::socket socket);
  void start_connection(tcp::socket socket, Role role, std::string remote,
                        std::optional<PublicKey> dialed_key, Dialer* dialer);

  void dial(Dialer& d);
  void on_resolved(Dialer& d, const boost::system::error_code& error,
                   const tcp::resolver::results_type& results);
  void on_dial_connected(Dialer& d, tcp::socket& socket, const boost::system::error_code& error,
                         const tcp::endpoint& endpoint);
  void redial_later(Dialer& d, const std::string& error);
  void cancel_dialer(Dialer& d);
  void maybe_redial(const PublicKey& key);

  void emit(Event event);
  void drain();

  bool send(const PublicKey& peer, std::shared_ptr<const Bytes> payload);
  void set_enabled(bool on);
  void close_all(CloseKind kind, std::string_view reason);
  void stop();

  asio::io_context& io;
  Handler& handler;
  const TransportOptions options;
  const std::shared_ptr<const ConnectionSettings> settings;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry_timer;
  tcp::resolver resolver;
  std::string listen_address;                            // bound address, set by listen()
  std::set<PublicKey> peer_keys;                         // keys of options.peers: always accepted
  std::map<PublicKey, std::unique_ptr<Dialer>> dialers;  // one per configured peer key
  // Every live connection (handshaking or open); its size is what connections_max bounds.
  std::unordered_map<const Connection*, std::shared_ptr<Connection>> connections;
  // The one registered (open) connection per peer key; each has registered == true.
  std::map<PublicKey, std::shared_ptr<Connection>> established;
  // Which dialer made a connection (kConnected dialers), to tell it when the connection ends.
  std::unordered_map<const Connection*, Dialer*> dialed_by;
  Counters counters;
  bool enabled = true;
  bool stopped = false;
  std::deque<Event> events;  // handler calls not yet made, in order
  bool drain_posted = false;
  std::mt19937_64 rng;  // dial jitter only
};

// ---- Listening and accepting.

Status Transport::Impl::listen() {
  auto parsed = parse_host_port(options.listen, /*port_zero_allowed=*/true);
  if (!parsed.is_ok()) return parsed.status().with_context("p2p listen address");
  const HostPort where = std::move(parsed).value();
  boost::system::error_code error;
  tcp::endpoint endpoint;
  const asio::ip::address address = asio::ip::make_address(where.host, error);
  if (!error) {
    endpoint = tcp::endpoint(address, where.port);
  } else {
    // A host name (e.g. "localhost"): resolved once, synchronously, at start.
    tcp::resolver sync_resolver(io);
    auto results = sync_resolver.resolve(where.host, std::to_string(where.port), error);
    if (error || results.empty()) {
      return Status::invalid_argument("p2p listen address \"" + options.listen +
                                      "\": cannot resolve host: " + error.message());
    }
    endpoint = results.begin()->endpoint();
  }
  const std::string what = "cannot listen for peers on " + options.listen + ": ";
  if (acceptor.open(endpoint.protocol(), error)) return Status::io_error(what + error.message());
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), error)) {
    return Status::io_error(what + error.message());
  }
  if (acceptor.bind(endpoint, error)) return Status::io_error(what + error.message());
  if (acceptor.listen(asio::socket_base::max_listen_connections, error)) {
    return Status::io_error(what + error.message());
  }
  const tcp::endpoint bound = acceptor.local_endpoint(error);
  if (error) return Status::io_error(what + error.message());
  listen_address = endpoint_text(bound);
  return Status::ok();
}

void Transport::Impl::accept() {
  acceptor.async_accept(
      [weak = weak_from_this()](const boost::system::error_code& error, tcp::socket socket) {
        if (auto self = weak.lock()) self->on_accept(error, std::move(socket));
      });
}

void Transport::Impl::on_accept(const boost::system::error_code& error, tcp::socket socket) {
  if (stopped) return;
  if (error) {
    if (error == asio::error::operation_aborted) return;
    spdlog::warn("p2p: accept on {} failed: {}; retrying in {} ms", listen_address, error.message(),
                 kAcceptRetryDelay.count());
    accept_retry_timer.expires_after(kAcceptRetryDelay);
    accept_retry_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& e) {
      auto self = weak.lock();
      if (self && !e && !self->stopped) self->accept();
    });
    return;
  }
  boost::system::error_code ignored;
  const tcp::endpoint remote_endpoint = socket.remote_endpoint(ignored);
  const std::string remote =
      ignored ? std::string("unknown address") : endpoint_text(remote_endpoint);
  if (!enabled) {
    spdlog::info("p2p: refused {}: p2p is disabled", remote);
    ++counters.connections_refused;
    socket.close(ignored);
  } else if (connections.size() >= options.connections_max) {
    spdlog::warn("p2p: refused {}: connection limit reached ({} connections, connections_max {})",
                 remote, connections.size(), options.connections_max);
    ++counters.connections_refused;
    socket.close(ignored);
  } else {
    start_connection(std::move(socket), Role::kResponder, remote, std::nullopt, nullptr);
  }
  accept();
}

void Transport::Impl::start_connection(tcp::socket socket, Role role, std::string remote,
                                       std::optional<PublicKey> dialed_key, Dialer* dialer) {
  auto connection = std::make_shared<Connection>(std::move(socket), role, std::move(remote),
                                                 std::move(dialed_key), settings, this, &counters);
  connections.emplace(connection.get(), connection);
  if (dialer) {
    dialer->state = Dialer::State::kConnected;
    dialed_by.emplace(connection.get(), dialer);
  }
  connection->start();  // may close at once; on_closed then cleans up
}

// ---- Key policy and registration.

Status Transport::Impl::authorize(const PublicKey& key) {
  if (options.validators.contains(key) || peer_keys.contains(key) || options.accept_unknown_peers) {
    return Status::ok();
  }
  return Status::invalid_argument("unknown peer key " + key.hex() +
                                  " (not a validator, not in p2p.peers, accept_unknown_peers is "
                                  "off)");
}

void Transport::Impl::on_authenticated(const std::shared_ptr<Connection>& connection) {
  const PublicKey key = *connection->peer_key();
  if (auto d = dialers.find(key); d != dialers.end()) {
    d->second->backoff = options.dial_backoff_min;
    d->second->error_last.clear();
  }
  auto it = established.find(key);
  if (it == established.end()) {
    connection->registered = true;
    established.emplace(key, connection);
    emit({Event::Kind::kConnected, key, {}});
    return;
  }
  // Two connections to one peer. If both sides dialed at once, both ends keep the one whose
  // initiator has the smaller node key, so they agree without talking. Such twins always
  // authenticate within a handshake timeout of each other; a connection much newer than the
  // registered one means the peer lost the old one (it restarted, and the old connection is
  // half-open here), so the newer wins, as it does when both have the same initiator.
  const PublicKey& own = settings->signer.public_key();
  auto initiator = [&](const Connection& c) { return c.role() == Role::kInitiator ? own : key; };
  std::shared_ptr<Connection> old = it->second;
  const PublicKey old_initiator = initiator(*old);
  const PublicKey new_initiator = initiator(*connection);
  const bool twins = connection->authenticated_at() - old->authenticated_at() <
                     kTwinWindowTimeouts * options.handshake_timeout;
  if (!twins || new_initiator <= old_initiator) {
    old->registered = false;
    connection->registered = true;
    it->second = connection;
    emit({Event::Kind::kDisconnected, key, {}});
    emit({Event::Kind::kConnected, key, {}});
    old->close(CloseKind::kClosed,
               "replaced by a newer connection dialed by " + short_key(new_initiator));
  } else {
    connection->close(CloseKind::kClosed, "duplicate connection; keeping the one dialed by " +
                                              short_key(old_initiator));
  }
}

void Transport::Impl::on_payload(Connection& connection, Bytes payload) {
  if (!connection.registered) return;
  emit({Event::Kind::kFrame, *connection.peer_key(), std::move(payload)});
}

void Transport::Impl::on_closed(Connection& connection) {
  std::shared_ptr<Connection> keep;  // alive until we return
  if (auto it = connections.find(&connection); it != connections.end()) {
    keep = std::move(it->second);
    connections.erase(it);
  }
  std::optional<PublicKey> key = connection.peer_key();
  if (connection.registered) {
    connection.registered = false;
    established.erase(*key);
    emit({Event::Kind::kDisconnected, *key, {}});
  }
  if (auto it = dialed_by.find(&connection); it != dialed_by.end()) {
    Dialer& d = *it->second;
    dialed_by.erase(it);
    d.state = Dialer::State::kIdle;
    key = d.address.key;
  }
  if (key) maybe_redial(*key);
}

// ---- Dialing.

void Transport::Impl::dial(Dialer& d) {
  if (stopped || !enabled || d.state != Dialer::State::kIdle) return;
  if (established.contains(d.address.key)) return;  // connected (possibly inbound)
  d.state = Dialer::State::kResolving;
  resolver.async_resolve(
      d.address.host, std::to_string(d.address.port),
      [weak = weak_from_this(), dp = &d, generation = d.generation](
          const boost::system::error_code& error, const tcp::resolver::results_type& results) {
        auto self = weak.lock();
        if (!self || dp->generation != generation) return;
        self->on_resolved(*dp, error, results);
      });
}

void Transport::Impl::on_resolved(Dialer& d, const boost::system::error_code& error,
                                  const tcp::resolver::results_type& results) {
  if (error) return redial_later(d, "cannot resolve " + d.address.host + ": " + error.message());
  d.state = Dialer::State::kConnecting;
  d.socket = std::make_shared<tcp::socket>(io);
  asio::async_connect(
      *d.socket, results,
      [weak = weak_from_this(), dp = &d, generation = d.generation, socket = d.socket](
          const boost::system::error_code& e, const tcp::endpoint& endpoint) {
        auto self = weak.lock();
        if (!self || dp->generation != generation) return;
        self->on_dial_connected(*dp, *socket, e, endpoint);
      });
}

void Transport::Impl::on_dial_connected(Dialer& d, tcp::socket& socket,
                                        const boost::system::error_code& error,
                                        const tcp::endpoint& endpoint) {
  d.socket.reset();
  if (error) return redial_later(d, "connect failed: " + error.message());
  d.state = Dialer::State::kIdle;
  if (established.contains(d.address.key)) {  // the peer connected to us meanwhile
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  start_connection(std::move(socket), Role::kInitiator, endpoint_text(endpoint), d.address.key, &d);
}

void Transport::Impl::redial_later(Dialer& d, const std::string& error) {
  d.state = Dialer::State::kIdle;
  if (stopped || !enabled) return;
  if (!error.empty()) {
    const std::string line = "p2p: cannot reach peer " + short_key(d.address.key) + " at " +
                             format_host_port(d.address.host, d.address.port) + ": " + error;
    if (error != d.error_last) {
      spdlog::info("{}", line);
    } else {
      spdlog::debug("{}", line);
    }
    d.error_last = error;
  }
  // Uniform jitter in [backoff/2, backoff] keeps peers that lost each other at the same
  // moment from redialing in lockstep.
  const auto backoff_ms = static_cast<std::uint64_t>(d.backoff.count());
  std::uniform_int_distribution<std::uint64_t> jitter(backoff_ms / 2, backoff_ms);
  const std::chrono::milliseconds delay(jitter(rng));
  d.backoff = std::min(d.backoff * 2, options.dial_backoff_max);
  d.state = Dialer::State::kWaiting;
  d.timer.expires_after(delay);
  d.timer.async_wait([weak = weak_from_this(), dp = &d,
                      generation = d.generation](const boost::system::error_code& e) {
    auto self = weak.lock();
    if (!self || e || dp->generation != generation) return;
    dp->state = Dialer::State::kIdle;
    self->dial(*dp);
  });
}

void Transport::Impl::maybe_redial(const PublicKey& key) {
  auto it = dialers.find(key);
  if (it == dialers.end() || it->second->state != Dialer::State::kIdle) return;
  if (established.contains(key)) return;  // dialed again when that connection ends
  redial_later(*it->second, "");
}

void Transport::Impl::cancel_dialer(Dialer& d) {
  ++d.generation;
  d.timer.cancel();
  if (d.socket) {
    boost::system::error_code ignored;
    d.socket->close(ignored);  // the pending async_connect keeps the object alive
    d.socket.reset();
  }
  // A kConnected dialer stays so: its connection is closed next and on_closed resets it.
  if (d.state != Dialer::State::kConnected) d.state = Dialer::State::kIdle;
}

// ---- Handler events.

void Transport::Impl::emit(Event event) {
  if (stopped) return;
  events.push_back(std::move(event));
  if (drain_posted) return;
  drain_posted = true;
  asio::post(io, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->drain();
  });
}

void Transport::Impl::drain() {
  drain_posted = false;
  auto self = shared_from_this();  // the handler may destroy the Transport
  for (std::size_t i = 0; i < kEventsPerDrain && !stopped && !events.empty(); ++i) {
    Event event = std::move(events.front());
    events.pop_front();
    switch (event.kind) {
      case Event::Kind::kConnected:
        handler.on_connected(event.peer);
        break;
      case Event::Kind::kDisconnected:
        handler.on_disconnected(event.peer);
        break;
      case Event::Kind::kFrame:
        handler.on_frame(event.peer, std::move(event.payload));
        break;
    }
  }
  if (!stopped && !events.empty() && !drain_posted) {
    drain_posted = true;
    asio::post(io, [weak = weak_from_this()] {
      if (auto s = weak.lock()) s->drain();
    });
  }
}

// ---- Public operations.

bool Transport::Impl::send(const PublicKey& peer, std::shared_ptr<const Bytes> payload) {
  LEDGER_ASSERT(payload);
  if (stopped || !enabled) return false;
  if (payload->size() > options.frame_bytes_max) {
    spdlog::error("p2p: not sending a {}-byte payload to {}: larger than frame_bytes_max {}",
                  payload->size(), short_key(peer), options.frame_bytes_max);
    return false;
  }
  auto it = established.find(peer);
  if (it == established.end()) return false;
  std::shared_ptr<Connection> connection = it->second;  // queue_payload may close it
  return connection->queue_payload(std::move(payload));
}

void Transport::Impl::close_all(CloseKind kind, std::string_view reason) {
  std::vector<std::shared_ptr<Connection>> all;
  all.reserve(connections.size());
  for (auto& [raw, connection] : connections)
    all.push_back(connection);
  for (auto& connection : all)
    connection->close(kind, reason);
}

void Transport::Impl::set_enabled(bool on) {
  if (stopped || on == enabled) return;
  enabled = on;
  if (!on) {
    spdlog::info("p2p: disabled: closing {} connections, not dialing or accepting",
                 connections.size());
    for (auto& [key, d] : dialers)
      cancel_dialer(*d);
    close_all(CloseKind::kClosed, "p2p disabled");
    return;
  }
  spdlog::info("p2p: enabled: dialing {} peers", dialers.size());
  for (auto& [key, d] : dialers) {
    d->backoff = options.dial_backoff_min;
    d->error_last.clear();
    dial(*d);
  }
}

void Transport::Impl::stop() {
  if (stopped) return;
  stopped = true;
  enabled = false;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  accept_retry_timer.cancel();
  resolver.cancel();
  for (auto& [key, d] : dialers)
    cancel_dialer(*d);
  for (auto& [raw, connection] : connections)
    connection->detach();
  close_all(CloseKind::kSilent, "stopped");
  connections.clear();
  established.clear();
  dialed_by.clear();
  events.clear();
}

// ---- Transport.

Transport::Transport(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Transport::~Transport() {
  if (impl_) impl_->stop();
}

StatusOr<std::unique_ptr<Transport>> Transport::start(asio::io_context& io,
                                                      const SecretKey& node_key,
                                                      TransportOptions options, Handler& handler) {
  LEDGER_RETURN_IF_ERROR(validate_options(options));
  LEDGER_ASSIGN_OR_RETURN(Signer signer, Signer::create(node_key));
  const PublicKey own = signer.public_key();
  auto settings = std::make_shared<const ConnectionSettings>(std::move(signer), options);
  auto impl = std::make_shared<Impl>(io, handler, std::move(options), std::move(settings));
  LEDGER_RETURN_IF_ERROR(impl->listen());

  for (const PeerAddress& peer : impl->options.peers) {
    if (peer.key == own) {
      spdlog::warn("p2p: not dialing {}: it is this node's own key", peer.to_string());
      continue;
    }
    if (impl->dialers.contains(peer.key)) {
      spdlog::warn("p2p: not dialing {}: its key is already listed with another address",
                   peer.to_string());
      continue;
    }
    impl->peer_keys.insert(peer.key);
    impl->dialers.emplace(peer.key,
                          std::make_unique<Dialer>(io, peer, impl->options.dial_backoff_min));
  }
  spdlog::info("p2p: listening on {} as {}, chain {}, {} peers to dial", impl->listen_address,
               own.hex(), impl->options.chain_id, impl->dialers.size());
  impl->accept();
  for (auto& [key, d] : impl->dialers)
    impl->dial(*d);
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

std::string Transport::listen_address() const {
  return impl_->listen_address;
}

const PublicKey& Transport::node_key() const {
  return impl_->settings->signer.public_key();
}

bool Transport::send(const PublicKey& peer, std::shared_ptr<const Bytes> payload) {
  return impl_->send(peer, std::move(payload));
}

std::vector<PublicKey> Transport::connected() const {
  std::vector<PublicKey> out;
  out.reserve(impl_->established.size());
  for (const auto& [key, connection] : impl_->established)
    out.push_back(key);
  return out;
}

bool Transport::is_connected(const PublicKey& peer) const {
  return impl_->established.contains(peer);
}

void Transport::set_enabled(bool enabled) {
  impl_->set_enabled(enabled);
}

bool Transport::enabled() const {
  return impl_->enabled;
}

void Transport::stop() {
  impl_->stop();
}

Transport::Counters Transport::counters() const {
  Counters out = impl_->counters;
  out.connections_open = impl_->connections.size();
  return out;
}

}  // namespace ledger::node::p2p
