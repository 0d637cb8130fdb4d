// The handshake pieces (handshake.h), one test per rule of docs/p2p.md, and a wire vector
// computed independently (Python `cryptography`: X25519, HKDF-SHA256, ChaCha20-Poly1305) so
// that the documented format, not just this implementation, is what is checked.
#include "ledger/node/p2p/handshake.h"

#include <gtest/gtest.h>

#include "ledger/core/encoding.h"
#include "ledger/node/p2p/frame_cipher.h"
#include "p2p_test_util.h"

namespace ledger::node::p2p {
namespace {

using testing::kChain;
using testing::test_secret;
using testing::test_signer_of;

bool has(const Status& status, std::string_view text) {
  return status.message().find(text) != std::string::npos;
}

template <std::size_t N>
std::array<std::uint8_t, N> unhex_fixed(std::string_view hex) {
  auto bytes = from_hex_fixed<N>(hex);
  LEDGER_ASSERT(bytes.is_ok());
  return *bytes;
}

// RFC 7748 section 6.1 key pairs (Alice dials, Bob accepts).
constexpr std::string_view kInitiatorPrivate =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kResponderPrivate =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";

HandshakeState fixed_state(Role role) {
  auto key = EphemeralKey::from_private(
      unhex_fixed<32>(role == Role::kInitiator ? kInitiatorPrivate : kResponderPrivate));
  EXPECT_TRUE(key.is_ok());
  auto state = HandshakeState::create(role, std::string(kChain), std::move(key).value());
  EXPECT_TRUE(state.is_ok());
  return std::move(state).value();
}

Hello good_hello() {
  Hello hello;
  hello.chain_id = std::string(kChain);
  hello.ephemeral_key.fill(7);
  return hello;
}

// ---- Wire vector.

TEST(WireVector, HelloBodiesTranscriptKeysAndFramesMatchIndependentImplementation) {
  HandshakeState initiator = fixed_state(Role::kInitiator);
  HandshakeState responder = fixed_state(Role::kResponder);
  EXPECT_EQ(to_hex(initiator.hello_body()),
            "0b6c6564676572642f703270010b6c65646765722d746573748520f0098930a754748b7ddcb43ef75a"
            "0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(to_hex(responder.hello_body()),
            "0b6c6564676572642f703270010b6c65646765722d74657374de9edb7d7b7dc1b4d35b61c2ece43537"
            "3f8343c85b78674dadfc7e146f882b4f");
  Bytes frame = initiator.hello_frame();
  EXPECT_EQ(to_hex(ByteView(frame).first(4)), "00000039");

  auto i = initiator.on_peer_hello(responder.hello_body());
  auto r = responder.on_peer_hello(initiator.hello_body());
  ASSERT_TRUE(i.is_ok()) << i.status().to_string();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(i->transcript.hex(),
            "3d7780c647f5bb0a52c192c113d6171bc48b5e2409f965ea3aba9d908f311a67");
  EXPECT_EQ(r->transcript, i->transcript);
  EXPECT_EQ(to_hex(i->send_key),
            "ed6c1ecd0511947ac9974f2751803e4e1ab6a965c80e03343c5fe4d97f123694");
  EXPECT_EQ(to_hex(i->recv_key),
            "4f283d366451a82287c55c37b208ad8d709b39a1c43ba42aeefc7251da1f2496");
  EXPECT_EQ(r->send_key, i->recv_key);
  EXPECT_EQ(r->recv_key, i->send_key);

  FrameSealer initiator_sealer(i->send_key);
  EXPECT_EQ(to_hex(initiator_sealer.seal(as_bytes("ping"))),
            "00000014bedf559cda28b43f9ea23ee39fc758667b56e5ec");
  EXPECT_EQ(to_hex(initiator_sealer.seal({})), "0000001045df3f9a28cccd7150266530f8086e06");
  FrameSealer responder_sealer(r->send_key);
  EXPECT_EQ(to_hex(responder_sealer.seal(as_bytes("pong"))),
            "00000014b01f6367d8f5c7c94175cbab1c67d52752dced7e");

  EXPECT_EQ(auth_signing_hash(Role::kInitiator, i->transcript, kChain).hex(),
            "3beed2c9e59527afb0c5b3766c5f78b8899c0b034df6cca2df58ec56ac165984");
  EXPECT_EQ(auth_signing_hash(Role::kResponder, i->transcript, kChain).hex(),
            "8a886afcd78d3380208d40ac23308d09503c2b7d6a2a07f7e309ac476b33447d");
}

TEST(WireVector, X25519MatchesRfc7748) {
  auto alice = EphemeralKey::from_private(unhex_fixed<32>(kInitiatorPrivate));
  auto bob = EphemeralKey::from_private(unhex_fixed<32>(kResponderPrivate));
  ASSERT_TRUE(alice.is_ok() && bob.is_ok());
  EXPECT_EQ(to_hex(alice->public_key()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  auto shared = alice->agree(bob->public_key());
  ASSERT_TRUE(shared.is_ok());
  EXPECT_EQ(to_hex(*shared), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

// ---- Hello.

TEST(Hello, RoundTrips) {
  const Hello hello = good_hello();
  auto decoded = decode_hello(encode_hello(hello));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->version, kProtocolVersion);
  EXPECT_EQ(decoded->chain_id, kChain);
  EXPECT_EQ(decoded->ephemeral_key, hello.ephemeral_key);
}

TEST(Hello, Decode_RejectsBadMagic) {
  ByteWriter w;
  w.string8("ledgerd/p2q").u8(1).string8(kChain).fixed(good_hello().ephemeral_key);
  auto decoded = decode_hello(w.data());
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(has(decoded.status(), "not a ledgerd peer")) << decoded.status().message();
}

TEST(Hello, Decode_RejectsOtherVersion) {
  Hello hello = good_hello();
  hello.version = 2;
  auto decoded = decode_hello(encode_hello(hello));
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(has(decoded.status(), "protocol version 2, this node speaks 1"))
      << decoded.status().message();
}

TEST(Hello, Decode_RejectsLongChainId) {
  Hello hello = good_hello();
  hello.chain_id = std::string(51, 'a');
  auto decoded = decode_hello(encode_hello(hello));
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(has(decoded.status(), "chain id is 51 bytes")) << decoded.status().message();
}

TEST(Hello, Decode_RejectsChainIdWithControlCharacters) {
  Hello hello = good_hello();
  hello.chain_id = "evil\nchain";
  auto decoded = decode_hello(encode_hello(hello));
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(has(decoded.status(), "outside [A-Za-z0-9._-]")) << decoded.status().message();
}

TEST(Hello, Decode_RejectsTrailingBytes) {
  Bytes body = encode_hello(good_hello());
  body.push_back(0);
  auto decoded = decode_hello(body);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(has(decoded.status(), "trailing")) << decoded.status().message();
}

TEST(Hello, Decode_RejectsTruncatedKey) {
  Bytes body = encode_hello(good_hello());
  body.pop_back();
  auto decoded = decode_hello(body);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_TRUE(has(decoded.status(), "truncated")) << decoded.status().message();
}

TEST(Hello, Decode_RejectsEmptyBody) {
  EXPECT_FALSE(decode_hello({}).is_ok());
}

TEST(Hello, Check_RejectsOtherChainNamingBoth) {
  Hello hello = good_hello();
  hello.chain_id = "other";
  Status status = check_hello(hello, kChain, X25519PublicKey{});
  EXPECT_TRUE(has(status, "peer is on chain \"other\", this node runs \"ledger-test\""))
      << status.message();
}

TEST(Hello, Check_RejectsOurOwnEphemeralKey) {
  const Hello hello = good_hello();
  Status status = check_hello(hello, kChain, hello.ephemeral_key);
  EXPECT_TRUE(has(status, "reflected")) << status.message();
}

TEST(Hello, HandshakeState_RejectsReflectedHello) {
  HandshakeState state = fixed_state(Role::kInitiator);
  auto keys = state.on_peer_hello(state.hello_body());
  ASSERT_FALSE(keys.is_ok());
  EXPECT_TRUE(has(keys.status(), "reflected"));
}

TEST(Hello, HandshakeState_RejectsInvalidOwnChainId) {
  EXPECT_FALSE(HandshakeState::create(Role::kInitiator, "bad chain").is_ok());
}

// ---- Key agreement.

TEST(KeyAgreement, RejectsLowOrderPointGivingZeroSecret) {
  auto key = EphemeralKey::generate();
  ASSERT_TRUE(key.is_ok());
  X25519PublicKey zero{};  // the point of order 4 at u = 0
  auto shared = key->agree(zero);
  ASSERT_FALSE(shared.is_ok());
  EXPECT_TRUE(has(shared.status(), "low-order point")) << shared.status().message();
}

TEST(KeyAgreement, FreshKeysDiffer) {
  auto a = EphemeralKey::generate();
  auto b = EphemeralKey::generate();
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_NE(a->public_key(), b->public_key());
}

TEST(KeyAgreement, BothSidesDeriveMirroredKeys) {
  auto initiator = HandshakeState::create(Role::kInitiator, std::string(kChain));
  auto responder = HandshakeState::create(Role::kResponder, std::string(kChain));
  ASSERT_TRUE(initiator.is_ok() && responder.is_ok());
  auto i = initiator->on_peer_hello(responder->hello_body());
  auto r = responder->on_peer_hello(initiator->hello_body());
  ASSERT_TRUE(i.is_ok() && r.is_ok());
  EXPECT_EQ(i->transcript, r->transcript);
  EXPECT_EQ(i->send_key, r->recv_key);
  EXPECT_EQ(i->recv_key, r->send_key);
  EXPECT_NE(i->send_key, i->recv_key);
}

// ---- Auth.

class AuthTest : public ::testing::Test {
 protected:
  Signer signer_ = test_signer_of(test_secret(0x51, 1));
  Hash transcript_ = sha256(as_bytes("a transcript"));
};

TEST_F(AuthTest, ValidPayloadProvesKey) {
  Bytes payload = auth_payload(Role::kInitiator, signer_, transcript_, kChain);
  EXPECT_EQ(payload.size(), kAuthPayloadBytes);
  auto key = check_auth(payload, Role::kInitiator, transcript_, kChain);
  ASSERT_TRUE(key.is_ok()) << key.status().to_string();
  EXPECT_EQ(*key, signer_.public_key());
}

TEST_F(AuthTest, RejectsWrongRole) {
  Bytes payload = auth_payload(Role::kResponder, signer_, transcript_, kChain);
  auto key = check_auth(payload, Role::kInitiator, transcript_, kChain);
  ASSERT_FALSE(key.is_ok());
  EXPECT_TRUE(has(key.status(), "peer claims role responder, expected initiator"))
      << key.status().message();
}

TEST_F(AuthTest, RejectsRoleByteRewrittenToMatch) {
  // Signed as responder, role byte changed to initiator: the signature covers the role.
  Bytes payload = auth_payload(Role::kResponder, signer_, transcript_, kChain);
  payload[0] = 0;
  auto key = check_auth(payload, Role::kInitiator, transcript_, kChain);
  ASSERT_FALSE(key.is_ok());
  EXPECT_TRUE(has(key.status(), "bad handshake signature")) << key.status().message();
}

TEST_F(AuthTest, RejectsUnknownRoleByte) {
  Bytes payload = auth_payload(Role::kInitiator, signer_, transcript_, kChain);
  payload[0] = 7;
  auto key = check_auth(payload, Role::kInitiator, transcript_, kChain);
  ASSERT_FALSE(key.is_ok());
  EXPECT_TRUE(has(key.status(), "peer claims role byte 7")) << key.status().message();
}

TEST_F(AuthTest, RejectsOtherTranscript) {
  Bytes payload = auth_payload(Role::kInitiator, signer_, transcript_, kChain);
  auto key = check_auth(payload, Role::kInitiator, sha256(as_bytes("another")), kChain);
  ASSERT_FALSE(key.is_ok());
  EXPECT_TRUE(has(key.status(), "bad handshake signature")) << key.status().message();
}

TEST_F(AuthTest, RejectsOtherChainId) {
  Bytes payload = auth_payload(Role::kInitiator, signer_, transcript_, kChain);
  auto key = check_auth(payload, Role::kInitiator, transcript_, "other-chain");
  ASSERT_FALSE(key.is_ok());
  EXPECT_TRUE(has(key.status(), "bad handshake signature"));
}

TEST_F(AuthTest, RejectsFlippedSignatureBit) {
  Bytes payload = auth_payload(Role::kInitiator, signer_, transcript_, kChain);
  payload.back() ^= 1;
  auto key = check_auth(payload, Role::kInitiator, transcript_, kChain);
  ASSERT_FALSE(key.is_ok());
  EXPECT_TRUE(has(key.status(), "bad handshake signature"));
}

TEST_F(AuthTest, RejectsKeySwappedForAnother) {
  Bytes payload = auth_payload(Role::kInitiator, signer_, transcript_, kChain);
  const PublicKey other = testing::key_of(test_secret(0x51, 2));
  std::copy(other.bytes.begin(), other.bytes.end(), payload.begin() + 1);
  auto key = check_auth(payload, Role::kInitiator, transcript_, kChain);
  ASSERT_FALSE(key.is_ok());
  EXPECT_TRUE(has(key.status(), "bad handshake signature"));
}

TEST_F(AuthTest, RejectsWrongLength) {
  Bytes payload = auth_payload(Role::kInitiator, signer_, transcript_, kChain);
  payload.push_back(0);
  auto key = check_auth(payload, Role::kInitiator, transcript_, kChain);
  ASSERT_FALSE(key.is_ok());
  EXPECT_TRUE(has(key.status(), "auth payload is 98 bytes, expected 97"));
  EXPECT_FALSE(check_auth({}, Role::kInitiator, transcript_, kChain).is_ok());
}

}  // namespace
}  // namespace ledger::node::p2p
