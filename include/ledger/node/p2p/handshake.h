// The peer-to-peer handshake: hello exchange, X25519 key agreement, session keys, and the
// authentication payload in which each side proves its node key. Pure: no I/O, no clock.
// The wire format is specified in docs/p2p.md; this header follows it field by field.
//
// Sequence on a fresh TCP connection (both sides at once, see docs/p2p.md):
//   1. send hello_frame(); read the peer's hello (u32 length, at most kHelloBytesMax, body);
//   2. keys = on_peer_hello(body)   -- decodes, checks and derives; a Status names the reason;
//   3. send seal(auth_payload(role, signer, keys.transcript, chain_id)) with keys.send_key;
//   4. open the peer's first frame with keys.recv_key and check_auth() it.
//
// Thread-safety: all functions are thread-safe; an object is used by one thread at a time.
// Error messages are written to be shown after "p2p: refused <address>: ".
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ledger/core/bytes.h"
#include "ledger/core/hash.h"
#include "ledger/core/keys.h"
#include "ledger/core/status.h"

namespace ledger::node::p2p {

inline constexpr std::string_view kHelloMagic = "ledgerd/p2p";
inline constexpr std::uint8_t kProtocolVersion = 1;
// The largest hello body; a peer announcing more is refused before its body is read.
inline constexpr std::size_t kHelloBytesMax = 512;
inline constexpr std::string_view kTranscriptTag = "ledgerd/p2p-handshake";
inline constexpr std::string_view kAuthTag = "ledgerd/p2p-auth";
inline constexpr std::string_view kInfoInitiatorToResponder = "ledgerd/p2p initiator->responder";
inline constexpr std::string_view kInfoResponderToInitiator = "ledgerd/p2p responder->initiator";
// u8 role, 32-byte node key, 64-byte BIP340 signature.
inline constexpr std::size_t kAuthPayloadBytes = 1 + PublicKey::kSize + Signature::kSize;

// The initiator is the side that dialed (called connect); the responder accepted.
enum class Role : std::uint8_t { kInitiator = 0, kResponder = 1 };
Role peer_role(Role own);
const char* role_name(Role role);  // "initiator" | "responder"

using X25519PublicKey = std::array<std::uint8_t, 32>;
using SymmetricKey = std::array<std::uint8_t, 32>;

// A hello as sent on the wire (the magic is implied: encode writes it, decode checks it).
struct Hello {
  std::uint8_t version = kProtocolVersion;
  std::string chain_id;             // 1..50 characters of [A-Za-z0-9._-] once decoded
  X25519PublicKey ephemeral_key{};  // fresh per connection
};

// string8 magic, u8 version, string8 chain id, 32-byte key. The caller keeps chain_id at most
// 255 bytes (asserted).
Bytes encode_hello(const Hello& hello);
// Structural checks, each with its own kInvalidArgument reason: truncation, magic ("not a
// ledgerd peer"), version, a chain id that is not a valid chain id (e.g. longer than 50
// bytes), trailing bytes. A wrong version is reported before the fields after it are read.
StatusOr<Hello> decode_hello(ByteView body);
// Checks a decoded peer hello against this side: the chain id must equal ours (the message
// names both) and the ephemeral key must differ from our own (a reflected hello).
Status check_hello(const Hello& peer, std::string_view chain_id,
                   const X25519PublicKey& own_ephemeral_key);

// An X25519 key pair (OpenSSL EVP_PKEY_X25519). Move-only; the private key stays inside
// OpenSSL and is freed (and wiped by OpenSSL) on destruction.
class EphemeralKey {
 public:
  // A fresh key pair. kInternal only if OpenSSL fails.
  static StatusOr<EphemeralKey> generate();
  // A key pair from fixed private bytes (RFC 7748 clamping applies). For test vectors.
  static StatusOr<EphemeralKey> from_private(const std::array<std::uint8_t, 32>& private_key);

  EphemeralKey(EphemeralKey&&) noexcept;
  EphemeralKey& operator=(EphemeralKey&&) noexcept;
  ~EphemeralKey();

  const X25519PublicKey& public_key() const { return public_key_; }
  // X25519(own private, peer public). kInvalidArgument if the result is all zero (the peer
  // sent a low-order point) or OpenSSL refuses the peer key.
  StatusOr<SymmetricKey> agree(const X25519PublicKey& peer) const;

 private:
  struct Impl;
  EphemeralKey(std::unique_ptr<Impl> impl, const X25519PublicKey& public_key);
  std::unique_ptr<Impl> impl_;
  X25519PublicKey public_key_{};
};

// The keys of one connection, as seen by one side. Wiped on destruction.
struct SessionKeys {
  SymmetricKey send_key{};  // seals the frames this side sends
  SymmetricKey recv_key{};  // opens the frames the peer sends
  Hash transcript;          // SHA-256 over both hello bodies; what the auth signatures cover

  SessionKeys() = default;
  SessionKeys(const SessionKeys&) = default;
  SessionKeys& operator=(const SessionKeys&) = default;
  ~SessionKeys();
};

// SHA-256(string8 kTranscriptTag || initiator hello body || responder hello body).
Hash handshake_transcript(ByteView initiator_hello_body, ByteView responder_hello_body);

// HKDF-SHA256 with ikm = shared, salt = transcript, 32 bytes for each direction (info
// kInfoInitiatorToResponder / kInfoResponderToInitiator), assigned to send/recv by `own`.
StatusOr<SessionKeys> derive_session_keys(Role own, const SymmetricKey& shared,
                                          const Hash& transcript);

// The digest the auth signature covers:
// SHA-256(string8 kAuthTag || u8 role || transcript || string8 chain id).
Hash auth_signing_hash(Role role, const Hash& transcript, std::string_view chain_id);

// u8 role || signer's x-only key || BIP340 signature of auth_signing_hash(...). Always
// kAuthPayloadBytes long.
Bytes auth_payload(Role role, const Signer& signer, const Hash& transcript,
                   std::string_view chain_id);

// Decodes a peer's auth payload and checks its length, that its role is `expected_role`
// (the peer's role) and its signature over auth_signing_hash(expected_role, transcript,
// chain_id). Returns the proven node key, or kInvalidArgument: "auth payload is N bytes,
// expected 97", "peer claims role X, expected Y", "bad handshake signature". Does not apply
// any key policy (self, expected, allowed): the transport does.
StatusOr<PublicKey> check_auth(ByteView payload, Role expected_role, const Hash& transcript,
                               std::string_view chain_id);

// One side of a handshake: its role, chain id, fresh ephemeral key and hello body.
// Move-only (owns the ephemeral key).
class HandshakeState {
 public:
  // A fresh ephemeral key. kInvalidArgument if chain_id is not a valid chain id.
  static StatusOr<HandshakeState> create(Role role, std::string chain_id);
  // With a given ephemeral key (tests and test vectors).
  static StatusOr<HandshakeState> create(Role role, std::string chain_id, EphemeralKey ephemeral);

  Role role() const { return role_; }
  const std::string& chain_id() const { return chain_id_; }
  const X25519PublicKey& ephemeral_public_key() const { return ephemeral_.public_key(); }
  // The encoded hello body (without the length prefix).
  const Bytes& hello_body() const { return hello_body_; }
  // u32 big-endian length || hello_body(): what goes on the wire.
  Bytes hello_frame() const;

  // decode_hello + check_hello + agree + transcript + derive_session_keys. Every failure is
  // kInvalidArgument (or kInternal if OpenSSL fails) with a reason a log line can show.
  StatusOr<SessionKeys> on_peer_hello(ByteView peer_hello_body) const;

 private:
  HandshakeState(Role role, std::string chain_id, EphemeralKey ephemeral);
  Role role_;
  std::string chain_id_;
  EphemeralKey ephemeral_;
  Bytes hello_body_;
};

}  // namespace ledger::node::p2p
