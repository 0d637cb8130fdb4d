// Block sync, the answering side (include/ledger/node/sync_service.h), over the chains of
// sync_chain.h.
#include "ledger/node/sync_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sync_chain.h"

namespace ledger::node {
namespace {

using namespace std::chrono_literals;
using namespace sync_test;

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
  const std::uint64_t one = encode_block(chain.block(3)).size() + encode_qc(chain.cert(3)).size();
  config.response_bytes_max = 2 * one + 100;  // two blocks, not three
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
          a.log_line->find("sync: dropped a request from " + to_hex(flooder.bytes).substr(0, 12) +
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

}  // namespace
}  // namespace ledger::node
