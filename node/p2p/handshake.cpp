#include "ledger/node/p2p/handshake.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <utility>

#include "ledger/core/chain_id.h"
#include "ledger/core/encoding.h"

namespace ledger::node::p2p {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

StatusOr<X25519PublicKey> raw_public_key(EVP_PKEY* pkey) {
  X25519PublicKey out{};
  std::size_t size = out.size();
  if (EVP_PKEY_get_raw_public_key(pkey, out.data(), &size) != 1 || size != out.size()) {
    return Status::internal("X25519: cannot read the public key");
  }
  return out;
}

// HKDF-SHA256(ikm, salt, info) -> 32 bytes.
StatusOr<SymmetricKey> hkdf_sha256(ByteView ikm, ByteView salt, std::string_view info) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  SymmetricKey out{};
  std::size_t size = out.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), salt.data(), static_cast<int>(salt.size())) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), ikm.data(), static_cast<int>(ikm.size())) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const unsigned char*>(info.data()),
                                  static_cast<int>(info.size())) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &size) != 1 || size != out.size()) {
    return Status::internal("HKDF-SHA256 failed in OpenSSL");
  }
  return out;
}

}  // namespace

Role peer_role(Role own) {
  return own == Role::kInitiator ? Role::kResponder : Role::kInitiator;
}

const char* role_name(Role role) {
  return role == Role::kInitiator ? "initiator" : "responder";
}

// ---- Hello.

Bytes encode_hello(const Hello& hello) {
  ByteWriter w;
  w.string8(kHelloMagic).u8(hello.version).string8(hello.chain_id).fixed(hello.ephemeral_key);
  return std::move(w).take();
}

StatusOr<Hello> decode_hello(ByteView body) {
  ByteReader r(body);
  std::string magic;
  LEDGER_RETURN_IF_ERROR(r.string8("hello magic", magic));
  if (magic != kHelloMagic) {
    return Status::invalid_argument("not a ledgerd peer: hello magic is not \"" +
                                    std::string(kHelloMagic) + "\"");
  }
  Hello hello;
  LEDGER_RETURN_IF_ERROR(r.u8("hello version", hello.version));
  if (hello.version != kProtocolVersion) {
    return Status::invalid_argument("peer speaks p2p protocol version " +
                                    std::to_string(hello.version) + ", this node speaks " +
                                    std::to_string(kProtocolVersion));
  }
  LEDGER_RETURN_IF_ERROR(r.string8("hello chain id", hello.chain_id));
  Status chain_ok = validate_chain_id(hello.chain_id);
  if (!chain_ok.is_ok()) return chain_ok.with_context("hello");
  LEDGER_RETURN_IF_ERROR(r.fixed("hello ephemeral key", hello.ephemeral_key));
  LEDGER_RETURN_IF_ERROR(r.finish("hello"));
  return hello;
}

Status check_hello(const Hello& peer, std::string_view chain_id,
                   const X25519PublicKey& own_ephemeral_key) {
  if (peer.chain_id != chain_id) {
    return Status::invalid_argument("peer is on chain \"" + peer.chain_id +
                                    "\", this node runs \"" + std::string(chain_id) + "\"");
  }
  if (peer.ephemeral_key == own_ephemeral_key) {
    return Status::invalid_argument("peer's hello carries our own ephemeral key (reflected)");
  }
  return Status::ok();
}

// ---- X25519.

struct EphemeralKey::Impl {
  PkeyPtr pkey;
};

EphemeralKey::EphemeralKey(std::unique_ptr<Impl> impl, const X25519PublicKey& public_key)
    : impl_(std::move(impl)), public_key_(public_key) {}
EphemeralKey::EphemeralKey(EphemeralKey&&) noexcept = default;
EphemeralKey& EphemeralKey::operator=(EphemeralKey&&) noexcept = default;
EphemeralKey::~EphemeralKey() = default;

StatusOr<EphemeralKey> EphemeralKey::generate() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return Status::internal("X25519 key generation failed in OpenSSL");
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(raw);
  LEDGER_ASSIGN_OR_RETURN(X25519PublicKey public_key, raw_public_key(impl->pkey.get()));
  return EphemeralKey(std::move(impl), public_key);
}

StatusOr<EphemeralKey> EphemeralKey::from_private(const std::array<std::uint8_t, 32>& private_key) {
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                                private_key.size()));
  if (!impl->pkey) return Status::internal("X25519: OpenSSL refused the private key");
  LEDGER_ASSIGN_OR_RETURN(X25519PublicKey public_key, raw_public_key(impl->pkey.get()));
  return EphemeralKey(std::move(impl), public_key);
}

StatusOr<SymmetricKey> EphemeralKey::agree(const X25519PublicKey& peer) const {
  LEDGER_ASSERT(impl_);
  PkeyPtr peer_key(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
  if (!peer_key) return Status::invalid_argument("peer's ephemeral key is not an X25519 key");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(impl_->pkey.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) {
    return Status::internal("X25519 key agreement failed in OpenSSL");
  }
  SymmetricKey shared{};
  std::size_t size = shared.size();
  // OpenSSL refuses a peer key whose result would be all zero (a low-order point); the check
  // below covers any version that does not.
  const bool derived = EVP_PKEY_derive_set_peer(ctx.get(), peer_key.get()) == 1 &&
                       EVP_PKEY_derive(ctx.get(), shared.data(), &size) == 1 &&
                       size == shared.size();
  const bool all_zero = CRYPTO_memcmp(shared.data(), SymmetricKey{}.data(), shared.size()) == 0;
  if (!derived || all_zero) {
    OPENSSL_cleanse(shared.data(), shared.size());
    return Status::invalid_argument(
        "key agreement gave no shared secret: peer's ephemeral key is a low-order point");
  }
  return shared;
}

// ---- Session keys.

SessionKeys::~SessionKeys() {
  OPENSSL_cleanse(send_key.data(), send_key.size());
  OPENSSL_cleanse(recv_key.data(), recv_key.size());
}

Hash handshake_transcript(ByteView initiator_hello_body, ByteView responder_hello_body) {
  ByteWriter tag;
  tag.string8(kTranscriptTag);
  Sha256 h;
  h.update(tag.data()).update(initiator_hello_body).update(responder_hello_body);
  return h.finish();
}

StatusOr<SessionKeys> derive_session_keys(Role own, const SymmetricKey& shared,
                                          const Hash& transcript) {
  LEDGER_ASSIGN_OR_RETURN(SymmetricKey to_responder,
                          hkdf_sha256(shared, transcript.bytes, kInfoInitiatorToResponder));
  LEDGER_ASSIGN_OR_RETURN(SymmetricKey to_initiator,
                          hkdf_sha256(shared, transcript.bytes, kInfoResponderToInitiator));
  SessionKeys keys;
  keys.transcript = transcript;
  keys.send_key = own == Role::kInitiator ? to_responder : to_initiator;
  keys.recv_key = own == Role::kInitiator ? to_initiator : to_responder;
  OPENSSL_cleanse(to_responder.data(), to_responder.size());
  OPENSSL_cleanse(to_initiator.data(), to_initiator.size());
  return keys;
}

// ---- Auth.

Hash auth_signing_hash(Role role, const Hash& transcript, std::string_view chain_id) {
  ByteWriter w;
  w.string8(kAuthTag).u8(static_cast<std::uint8_t>(role)).fixed(transcript.bytes).string8(chain_id);
  return sha256(w.data());
}

Bytes auth_payload(Role role, const Signer& signer, const Hash& transcript,
                   std::string_view chain_id) {
  const Signature signature = signer.sign(auth_signing_hash(role, transcript, chain_id));
  ByteWriter w;
  w.u8(static_cast<std::uint8_t>(role)).fixed(signer.public_key().bytes).fixed(signature.bytes);
  LEDGER_ASSERT(w.data().size() == kAuthPayloadBytes);
  return std::move(w).take();
}

StatusOr<PublicKey> check_auth(ByteView payload, Role expected_role, const Hash& transcript,
                               std::string_view chain_id) {
  if (payload.size() != kAuthPayloadBytes) {
    return Status::invalid_argument("auth payload is " + std::to_string(payload.size()) +
                                    " bytes, expected " + std::to_string(kAuthPayloadBytes));
  }
  ByteReader r(payload);
  std::uint8_t role = 0;
  PublicKey key;
  Signature signature;
  LEDGER_RETURN_IF_ERROR(r.u8("auth role", role));
  LEDGER_RETURN_IF_ERROR(r.fixed("auth key", key.bytes));
  LEDGER_RETURN_IF_ERROR(r.fixed("auth signature", signature.bytes));
  LEDGER_RETURN_IF_ERROR(r.finish("auth payload"));
  if (role != static_cast<std::uint8_t>(expected_role)) {
    const std::string claimed =
        role <= 1 ? role_name(static_cast<Role>(role)) : "byte " + std::to_string(role);
    return Status::invalid_argument("peer claims role " + claimed + ", expected " +
                                    role_name(expected_role));
  }
  if (!verify_signature(key, auth_signing_hash(expected_role, transcript, chain_id), signature)) {
    return Status::invalid_argument("bad handshake signature (key " + key.hex() + ")");
  }
  return key;
}

// ---- HandshakeState.

HandshakeState::HandshakeState(Role role, std::string chain_id, EphemeralKey ephemeral)
    : role_(role), chain_id_(std::move(chain_id)), ephemeral_(std::move(ephemeral)) {
  Hello hello;
  hello.chain_id = chain_id_;
  hello.ephemeral_key = ephemeral_.public_key();
  hello_body_ = encode_hello(hello);
  LEDGER_ASSERT(hello_body_.size() <= kHelloBytesMax);
}

StatusOr<HandshakeState> HandshakeState::create(Role role, std::string chain_id) {
  LEDGER_ASSIGN_OR_RETURN(EphemeralKey ephemeral, EphemeralKey::generate());
  return create(role, std::move(chain_id), std::move(ephemeral));
}

StatusOr<HandshakeState> HandshakeState::create(Role role, std::string chain_id,
                                                EphemeralKey ephemeral) {
  LEDGER_RETURN_IF_ERROR(validate_chain_id(chain_id));
  return HandshakeState(role, std::move(chain_id), std::move(ephemeral));
}

Bytes HandshakeState::hello_frame() const {
  ByteWriter w;
  w.u32(static_cast<std::uint32_t>(hello_body_.size())).raw(hello_body_);
  return std::move(w).take();
}

StatusOr<SessionKeys> HandshakeState::on_peer_hello(ByteView peer_hello_body) const {
  LEDGER_ASSIGN_OR_RETURN(Hello peer, decode_hello(peer_hello_body));
  LEDGER_RETURN_IF_ERROR(check_hello(peer, chain_id_, ephemeral_.public_key()));
  LEDGER_ASSIGN_OR_RETURN(SymmetricKey shared, ephemeral_.agree(peer.ephemeral_key));
  const Hash transcript = role_ == Role::kInitiator
                              ? handshake_transcript(hello_body_, peer_hello_body)
                              : handshake_transcript(peer_hello_body, hello_body_);
  auto keys = derive_session_keys(role_, shared, transcript);
  OPENSSL_cleanse(shared.data(), shared.size());
  return keys;
}

}  // namespace ledger::node::p2p
