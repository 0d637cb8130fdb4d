// Block sync, the answering side (include/ledger/node/sync_service.h), over the chains of
// sync_chain.h; and the byte budget of BlockService (include/ledger/node/block_service.h), the
// other component that answers peers with blocks.
#include "ledger/node/sync_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ledger/node/block_service.h"
#include "sync_chain.h"

namespace ledger::node {
namespace {

using namespace std::chrono_literals;
using namespace sync_test;

// Counts the block and header reads of the store it wraps.
class CountingStore final : public storage::ChainStore {
 public:
  explicit CountingStore(const storage::ChainStore& inner) : inner_(inner) {}

  const std::string& chain_id() const override { return inner_.chain_id(); }
  std::optional<storage::ChainTip> tip() const override { return inner_.tip(); }
  Status commit_batch(std::span<const storage::BlockCommit>,
                      const std::optional<storage::PublicationHold>&) override {
    return Status::failed_precondition("read only");
  }
  StatusOr<std::optional<storage::PublicationHold>> publication_hold() const override {
    return inner_.publication_hold();
  }
  StatusOr<Block> block_at(std::uint64_t height) const override {
    ++block_reads;
    return inner_.block_at(height);
  }
  StatusOr<Bytes> raw_block_at(std::uint64_t height) const override {
    ++block_reads;
    return inner_.raw_block_at(height);
  }
  StatusOr<Bytes> raw_header_at(std::uint64_t height) const override {
    ++header_reads;
    return inner_.raw_header_at(height);
  }
  StatusOr<std::uint64_t> height_of(const Hash& id) const override { return inner_.height_of(id); }
  StatusOr<storage::TxLocation> transaction_location(const Hash& tx) const override {
    return inner_.transaction_location(tx);
  }
  StatusOr<QuorumCert> commit_cert_at(std::uint64_t height) const override {
    return inner_.commit_cert_at(height);
  }
  StatusOr<BlockResults> results_at(std::uint64_t height) const override {
    return inner_.results_at(height);
  }
  StatusOr<StateAccumulator> accumulator() const override { return inner_.accumulator(); }
  StatusOr<Account> account(const Address& address) const override {
    return inner_.account(address);
  }
  Status for_each_account(
      const std::function<Status(const Address&, const Account&)>& visit) const override {
    return inner_.for_each_account(visit);
  }

  mutable int block_reads = 0;
  mutable int header_reads = 0;

 private:
  const storage::ChainStore& inner_;
};

// The encoded size of the block at height h with its certificate, as an answer counts it.
std::uint64_t item_bytes(const SyncChain& chain, std::uint64_t h) {
  return encode_block(chain.block(h)).size() + encode_qc(chain.cert(h)).size() + 16;
}

TEST(SyncService, Answer_EndsWithProofHeadersUpToB0) {
  const SyncChain chain(kRounds);
  SyncService service(chain.store(), chain.service_config());
  for (std::uint64_t from = 1; from <= chain.committed_height(); ++from) {
    auto answer = service.answer(SyncRequestMessage{from, 2});
    ASSERT_TRUE(answer.is_ok());
    const SyncResponseMessage& r = answer.value().response;
    EXPECT_EQ(r.from_height, from);
    EXPECT_EQ(r.committed_height, chain.committed_height());
    const std::uint64_t last = std::min(from + 1, chain.committed_height());
    ASSERT_EQ(r.blocks.size(), last - from + 1);
    EXPECT_EQ(r.proof_headers.size(), chain.b0_of(last) - last) << "from " << from;
  }
  auto above = service.answer(SyncRequestMessage{chain.committed_height() + 1, 4});
  ASSERT_TRUE(above.is_ok());
  EXPECT_TRUE(above.value().response.blocks.empty());
}

// Attacker review: a stored block above the published height may await its B0 (a later
// batch's certificate from a sync peer, ChainView), so it cannot be proved; an answer that
// reached it had no block and counted as this honest node's failure. Answers, and the height
// they claim, stop at the servable (published) height.
TEST(SyncService, Answer_StopsAtTheServableHeight) {
  const SyncChain chain(kRounds);
  ASSERT_GE(chain.committed_height(), 4u);
  const std::uint64_t servable = chain.committed_height() - 2;
  SyncService service(chain.store(), chain.service_config(), [servable] { return servable; });
  auto answer = service.answer(SyncRequestMessage{servable - 1, 8});
  ASSERT_TRUE(answer.is_ok());
  const SyncResponseMessage& r = answer.value().response;
  EXPECT_EQ(r.committed_height, servable);
  ASSERT_EQ(r.blocks.size(), 2u);  // servable - 1 and servable, not the two stored above
  auto above = service.answer(SyncRequestMessage{servable + 1, 8});
  ASSERT_TRUE(above.is_ok());
  EXPECT_TRUE(above.value().response.blocks.empty());
  EXPECT_EQ(above.value().response.committed_height, servable);
  EXPECT_EQ(service.busy(SyncRequestMessage{1, 8}, std::chrono::milliseconds(5)).committed_height,
            servable);
}

TEST(SyncService, BatchLongerThanProofHeadersMax_AnswersOnlyProvableBlocks) {
  // Heights 2..5 share one certificate (B0 = 5): from 2 with 1 block needs 3 proof headers.
  const SyncChain chain({1, 2, 4, 6, 8, 9, 10, 11});
  ASSERT_EQ(chain.b0_of(2), 5u);
  SyncServiceConfig config = chain.service_config();
  config.proof_headers_max = 2;
  SyncService service(chain.store(), config);
  auto answer = service.answer(SyncRequestMessage{1, 2});  // 1 is provable alone, 2 is not
  ASSERT_TRUE(answer.is_ok());
  EXPECT_EQ(answer.value().response.blocks.size(), 1u);
  EXPECT_TRUE(answer.value().response.proof_headers.empty());
  answer = service.answer(SyncRequestMessage{2, 1});
  ASSERT_TRUE(answer.is_ok());
  EXPECT_TRUE(answer.value().response.blocks.empty());
  ASSERT_EQ(answer.value().notes.size(), 1u);
  EXPECT_NE(answer.value().notes[0].text.find("more than proof_headers_max (2)"), std::string::npos)
      << answer.value().notes[0].text;
}

TEST(SyncService, ResponseBytesMax_CutsTheAnswerAndKeepsItProvable) {
  const SyncChain chain(kRounds);
  SyncServiceConfig config = chain.service_config();
  const std::uint64_t one = item_bytes(chain, 3);
  const std::uint64_t header = encode_header(chain.block(5).header).size() + 16;
  config.response_bytes_max = 2 * one + header + 50;  // two blocks and a header, not three blocks
  ASSERT_LT(config.response_bytes_max, 3 * one);
  SyncService service(chain.store(), config);
  auto answer = service.answer(SyncRequestMessage{3, 4});
  ASSERT_TRUE(answer.is_ok());
  const SyncResponseMessage& r = answer.value().response;
  ASSERT_GE(r.blocks.size(), 1u);
  ASSERT_LE(r.blocks.size(), 2u);
  EXPECT_EQ(r.proof_headers.size(), 5 - (3 + r.blocks.size() - 1));

  BlockSync sync(chain.config());
  sync.on_peer_status(peer_key(1), chain.committed_height());
  ASSERT_TRUE(sync.poll(chain.tip_at(2), SyncTime{}).request.has_value());
  const SyncOutput out = sync.on_response(peer_key(1), r, chain.tip_at(2), SyncTime{});
  EXPECT_TRUE(out.penalties.empty());
  ASSERT_EQ(out.commits.size(), 1u);
  EXPECT_EQ(out.commits[0].blocks.size(), r.blocks.size());
}

TEST(SyncService, RateLimit_DropsAboveTheRateAndLogsAtMostOnceASecond) {
  const SyncChain chain(kRounds);
  SyncServiceConfig config = chain.service_config();
  config.requests_per_second = 5;
  SyncService service(chain.store(), config);
  const PublicKey flooder = peer_key(1);
  const PublicKey other = peer_key(2);
  SyncTime now{std::chrono::hours(1)};
  int admitted = 0;
  int lines = 0;
  for (int i = 0; i < 100; ++i) {  // 100 requests within 100 ms
    const SyncAdmission a = service.admit(flooder, now);
    admitted += a.admitted ? 1 : 0;
    if (a.log_line) {
      ++lines;
      EXPECT_NE(
          a.log_line->find("sync: refused a request from " + to_hex(flooder.bytes).substr(0, 12) +
                           ": more than 5 requests per second"),
          std::string::npos)
          << *a.log_line;
    }
    now += 1ms;
  }
  EXPECT_EQ(admitted, 5);  // the burst; less than one token refilled meanwhile
  EXPECT_EQ(lines, 1);
  EXPECT_EQ(service.dropped(), 95u);
  EXPECT_TRUE(service.admit(other, now).admitted);  // per peer
  now += 1s;
  int after = 0;
  for (int i = 0; i < 10; ++i)
    after += service.admit(flooder, now).admitted ? 1 : 0;
  EXPECT_EQ(after, 5);  // refilled at the rate, up to the burst
}

// Proof headers are read as headers: the blocks after the answer's last one are not read.
TEST(SyncService, ProofHeaders_ReadWithoutTheirBlocks) {
  const SyncChain chain(kRounds);
  ASSERT_EQ(chain.b0_of(3), 5u);
  CountingStore store(chain.store());
  SyncService service(store, chain.service_config());
  auto answer = service.answer(SyncRequestMessage{3, 1});  // height 3, proved by 4 and 5
  ASSERT_TRUE(answer.is_ok());
  ASSERT_EQ(answer.value().response.blocks.size(), 1u);
  ASSERT_EQ(answer.value().response.proof_headers.size(), 2u);
  EXPECT_EQ(answer.value().response.proof_headers[1], encode_header(chain.block(5).header));
  EXPECT_EQ(store.block_reads, 1);  // height 3 only
  EXPECT_EQ(store.header_reads, 2);
}

// p2p.sync_bytes_per_second: an answer holds no more blocks than the peer has bytes left (its
// first block always goes), its size is charged, and a peer in debt has its requests dropped
// until the rate repays it; other peers are not affected.
// Review: when the last block's proof headers could not fit, the answer read every one of them
// before finding out, once per block it dropped. A block stored with the genuine certificate of
// a far later batch (a lying peer's answer, up to proof_headers_max = 2,000,000 blocks ahead)
// made every request that covers it read that many headers. Headers that cannot fit by their
// count are not read; and they must fit the limit the asker states, not only this node's.
TEST(SyncService, ProofHeadersThatCannotFit_AreNotRead) {
  const SyncChain chain(kRounds);
  const auto stored = store_with_far_certificates(chain);
  const std::uint64_t b0 = chain.b0_of(11);
  ASSERT_EQ(b0 - 1, 10u);  // height 1 needs ten proof headers
  const std::uint64_t header_min = encoded_header_bytes_min(kChain) + 16;
  const std::uint64_t fits_nine = item_bytes(chain, 1) + 9 * header_min + header_min / 2;
  CountingStore counting(*stored);
  {
    SyncServiceConfig config = chain.service_config();
    config.response_bytes_max = fits_nine;
    const SyncService service(counting, config);
    const auto answer = service.answer(SyncRequestMessage{1, 1});
    ASSERT_TRUE(answer.is_ok());
    EXPECT_TRUE(answer.value().response.blocks.empty());
    EXPECT_EQ(counting.header_reads, 0);
  }
  {
    const SyncService service(counting, chain.service_config());  // 64 MiB of its own
    const auto answer = service.answer(SyncRequestMessage{1, 1, fits_nine});
    ASSERT_TRUE(answer.is_ok());
    EXPECT_TRUE(answer.value().response.blocks.empty());
    EXPECT_EQ(counting.header_reads, 0);
    // Without the asker's limit, the same request is answered with its ten headers.
    const auto whole = service.answer(SyncRequestMessage{1, 1});
    ASSERT_TRUE(whole.is_ok());
    EXPECT_EQ(whole.value().response.blocks.size(), 1u);
    EXPECT_EQ(whole.value().response.proof_headers.size(), 10u);
  }
}

// Second review: the count check uses the shortest possible header, but real ones carry a
// quorum's signatures; headers that passed it but did not fit were read again for every block
// the answer dropped. Each header is now read at most once per answer.
TEST(SyncService, ProofHeaders_ReadAtMostOncePerAnswer) {
  const SyncChain chain(kRounds);
  const auto stored = store_with_far_certificates(chain);  // 1..4 committed by B0 = 11
  std::uint64_t blocks = 0;
  for (std::uint64_t h = 1; h <= 4; ++h)
    blocks += item_bytes(chain, h);
  std::uint64_t three_headers = 0;
  for (std::uint64_t h = 5; h <= 7; ++h)
    three_headers += encode_header(chain.block(h).header).size() + 16;
  SyncServiceConfig config = chain.service_config();
  config.response_bytes_max = blocks + three_headers;  // seven headers pass the count check
  CountingStore counting(*stored);
  const SyncService service(counting, config);
  const auto answer = service.answer(SyncRequestMessage{1, 4});
  ASSERT_TRUE(answer.is_ok());
  EXPECT_GT(counting.header_reads, 0);
  EXPECT_LE(counting.header_reads, 10) << "heights 2..11, each at most once";
}

TEST(SyncService, ByteBudget_CutsAnswersAndDropsAPeerInDebt) {
  const SyncChain chain(kRounds);
  const std::uint64_t one = item_bytes(chain, 2);  // the largest (height 1's parent QC is empty)
  ASSERT_LE(item_bytes(chain, 1), one);
  SyncServiceConfig config = chain.service_config();
  config.bytes_per_second = 2 * one + one / 2;  // two and a half blocks a second
  SyncService service(chain.store(), config);
  const PublicKey peer = peer_key(1);
  SyncTime now{std::chrono::hours(1)};

  SyncAdmission admission = service.admit(peer, now);
  ASSERT_TRUE(admission.admitted);
  EXPECT_EQ(admission.bytes_max, config.bytes_per_second);
  auto answer = service.answer(SyncRequestMessage{1, 4}, admission.bytes_max);
  ASSERT_TRUE(answer.is_ok());
  EXPECT_EQ(answer.value().response.blocks.size(), 2u);  // a third would not be paid for
  EXPECT_EQ(answer.value().bytes, item_bytes(chain, 1) + item_bytes(chain, 2));
  service.charge(peer, answer.value().bytes);

  // Half a block left: the next answer still holds its first block, and goes into debt.
  admission = service.admit(peer, now);
  ASSERT_TRUE(admission.admitted);
  EXPECT_LT(admission.bytes_max, one);
  answer = service.answer(SyncRequestMessage{3, 4}, admission.bytes_max);
  ASSERT_TRUE(answer.is_ok());
  EXPECT_EQ(answer.value().response.blocks.size(), 1u);
  EXPECT_EQ(answer.value().response.proof_headers.size(), 2u);  // still provable
  service.charge(peer, answer.value().bytes);

  admission = service.admit(peer, now);
  EXPECT_FALSE(admission.admitted);
  ASSERT_TRUE(admission.log_line.has_value());
  EXPECT_NE(
      admission.log_line->find("sync: refused a request from " + to_hex(peer.bytes).substr(0, 12) +
                               ": more than " + std::to_string(config.bytes_per_second) +
                               " bytes per second sent to it (p2p.sync_bytes_per_second)"),
      std::string::npos)
      << *admission.log_line;
  EXPECT_EQ(service.dropped(), 1u);
  EXPECT_TRUE(service.admit(peer_key(2), now).admitted);  // per peer

  now += 1s;  // repaid
  admission = service.admit(peer, now);
  EXPECT_TRUE(admission.admitted);
  EXPECT_GT(admission.bytes_max, 0u);
}

// The service config of `chain` with `requests_per_second` and a busy_interval of 100 ms.
SyncServiceConfig rate_limited(const SyncChain& chain, std::uint32_t requests_per_second) {
  SyncServiceConfig config = chain.service_config();
  config.requests_per_second = requests_per_second;
  config.busy_interval = 100ms;
  return config;
}

// A refused request is answered busy, with how long until the peer's buckets admit one again
// (here a request token at 5 a second: 200 ms; then byte debt), but at most once per
// busy_interval: a flood of requests is not answered with a flood of busy answers.
TEST(SyncService, RefusedRequests_AnsweredBusyAtMostOncePerBusyInterval) {
  const SyncChain chain(kRounds);
  SyncService service(chain.store(), rate_limited(chain, 5));
  const PublicKey peer = peer_key(1);
  SyncTime now{std::chrono::hours(1)};
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(service.admit(peer, now).admitted);
  SyncAdmission refused = service.admit(peer, now);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after, 200ms);
  EXPECT_EQ(service.admit(peer, now + 99ms).retry_after, std::nullopt);  // told 99 ms ago
  refused = service.admit(peer, now + 100ms);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after, 100ms);  // half a token refilled meanwhile

  const SyncResponseMessage busy = service.busy(SyncRequestMessage{0, 4}, *refused.retry_after);
  EXPECT_EQ(busy.from_height, 1u);
  EXPECT_TRUE(busy.blocks.empty());
  EXPECT_TRUE(busy.proof_headers.empty());
  EXPECT_EQ(busy.committed_height, chain.committed_height());
  EXPECT_EQ(busy.retry_after_ms, 100u);
  EXPECT_EQ(service.busy(SyncRequestMessage{1, 4}, 0ms).retry_after_ms, 1u);  // never 0: busy

  // In byte debt: until the rate repays it.
  SyncServiceConfig bytes_config = chain.service_config();
  bytes_config.bytes_per_second = 1000;
  SyncService by_bytes(chain.store(), bytes_config);
  ASSERT_TRUE(by_bytes.admit(peer, now).admitted);
  by_bytes.charge(peer, 2500);  // 1500 bytes of debt: 1.5 s, plus the byte that must be left
  EXPECT_EQ(by_bytes.admit(peer, now).retry_after, 1501ms);
}

// reply(), the answering side as ledgerd's shell and the simulator both run it: an admitted
// request is answered and its bytes charged; a refused one is answered busy, then dropped
// within busy_interval.
TEST(SyncService, Reply_AnswersChargesThenBusyThenDrops) {
  const SyncChain chain(kRounds);
  SyncService service(chain.store(), rate_limited(chain, 1));
  const PublicKey peer = peer_key(1);
  const SyncTime now{std::chrono::hours(1)};
  SyncReply first = service.reply(peer, SyncRequestMessage{1, 2}, now);
  ASSERT_TRUE(first.error.is_ok());
  ASSERT_TRUE(first.response.has_value());
  EXPECT_EQ(first.response->blocks.size(), 2u);
  EXPECT_EQ(first.response->retry_after_ms, 0u);
  SyncReply busy = service.reply(peer, SyncRequestMessage{3, 2}, now);
  ASSERT_TRUE(busy.response.has_value());
  EXPECT_TRUE(busy.response->blocks.empty());
  EXPECT_GT(busy.response->retry_after_ms, 0u);
  EXPECT_TRUE(busy.log_line.has_value());
  EXPECT_FALSE(service.reply(peer, SyncRequestMessage{3, 2}, now + 50ms).response.has_value());
  EXPECT_EQ(service.dropped(), 2u);
}

// p2p.block_bytes_per_second: the same budget for answers to consensus block requests.
TEST(BlockService, ByteBudget_CutsAnswersAndDropsAPeerInDebt) {
  const SyncChain chain(kRounds);
  const std::uint64_t one = encode_block(chain.block(8)).size();
  BlockService::Options options;
  options.fetch_blocks_max = 64;
  options.bytes_per_second = 2 * one + one / 2;
  BlockService service(options, chain.store());
  const PublicKey peer = peer_key(1);
  std::uint64_t now_ms = 3'600'000;

  // Blocks back from height 8: two are paid for.
  const consensus::BlockRequest request{chain.id(8), 8};
  auto response = service.answer(peer, request, nullptr, now_ms);
  ASSERT_TRUE(response.has_value());
  ASSERT_EQ(response->blocks.size(), 2u);
  EXPECT_EQ(response->blocks[0], chain.block(8));
  // Half a block left: one block, into debt; then nothing until it is repaid.
  response = service.answer(peer, request, nullptr, now_ms);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->blocks.size(), 1u);
  EXPECT_FALSE(service.answer(peer, request, nullptr, now_ms).has_value());
  EXPECT_EQ(service.dropped(), 1u);
  EXPECT_TRUE(service.answer(peer_key(2), request, nullptr, now_ms).has_value());
  now_ms += 2000;  // repaid, and full again
  response = service.answer(peer, request, nullptr, now_ms);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->blocks.size(), 2u);
}

// Issue 11, rate limits: BlockService keeps a peer's bucket when it disconnects. (It used to
// forget it, so a peer in debt reconnected and was answered again with a full budget.)
TEST(BlockService, Budget_SurvivesAReconnect) {
  const SyncChain chain(kRounds);
  BlockService::Options options;
  options.bytes_per_second = encode_block(chain.block(8)).size();  // one block a second
  BlockService service(options, chain.store());
  const PublicKey peer = peer_key(1);
  const consensus::BlockRequest request{chain.id(8), 8};
  const std::uint64_t now_ms = 3'600'000;
  ASSERT_TRUE(service.answer(peer, request, nullptr, now_ms).has_value());  // into debt
  ASSERT_FALSE(service.answer(peer, request, nullptr, now_ms).has_value());
  service.on_peer_gone(peer);
  EXPECT_FALSE(service.answer(peer, request, nullptr, now_ms).has_value())
      << "a reconnect refilled the budget";
  EXPECT_TRUE(service.answer(peer, request, nullptr, now_ms + 3000).has_value());  // repaid
}

// At peers_max buckets a new peer's takes the place of a full one, else of a disconnected
// peer's: a connected peer in debt is not forgotten because other peers arrive. (The first
// bucket by key used to go, whatever it held.)
TEST(BlockService, PeersMax_ForgetsFullThenDisconnectedBucketsFirst) {
  const SyncChain chain(kRounds);
  BlockService::Options options;
  options.peers_max = 2;
  options.bytes_per_second = encode_block(chain.block(8)).size();
  BlockService service(options, chain.store());
  std::vector<PublicKey> keys = {peer_key(1), peer_key(2), peer_key(3), peer_key(4)};
  std::sort(keys.begin(), keys.end());
  const PublicKey& spender = keys[0];  // the first by key
  const consensus::BlockRequest request{chain.id(8), 8};
  const std::uint64_t now_ms = 3'600'000;
  ASSERT_TRUE(service.answer(spender, request, nullptr, now_ms).has_value());
  ASSERT_TRUE(service.answer(keys[1], request, nullptr, now_ms).has_value());
  service.on_peer_gone(keys[1]);
  ASSERT_TRUE(service.answer(keys[2], request, nullptr, now_ms).has_value());  // keys[1] goes
  service.on_peer_gone(keys[2]);
  ASSERT_TRUE(service.answer(keys[3], request, nullptr, now_ms).has_value());  // keys[2] goes
  EXPECT_FALSE(service.answer(spender, request, nullptr, now_ms).has_value())
      << "the spender's bucket was forgotten";
}

}  // namespace
}  // namespace ledger::node
