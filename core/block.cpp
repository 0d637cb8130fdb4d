#include "ledger/core/block.h"

#include "ledger/core/chain_id.h"
#include "ledger/core/encoding.h"

namespace ledger {

Bytes encode_header(const BlockHeader& h) {
  LEDGER_ASSERT(validate_chain_id(h.chain_id).is_ok());
  ByteWriter w;
  w.string8(kBlockTag).u8(kBlockVersion).string8(h.chain_id).u64(h.height).u64(h.round);
  w.fixed(h.parent_id.bytes);
  write_qc(w, h.parent_qc);
  w.fixed(h.proposer.bytes).u64(h.timestamp_ms);
  w.fixed(h.transactions_root.bytes).fixed(h.state_root.bytes);
  return std::move(w).take();
}

namespace {

Status read_header(ByteReader& r, BlockHeader& h) {
  LEDGER_RETURN_IF_ERROR(r.expect_tag("block header", kBlockTag));
  std::uint8_t version = 0;
  LEDGER_RETURN_IF_ERROR(r.u8("version", version));
  if (version != kBlockVersion) {
    return Status::invalid_argument("unknown block version " + std::to_string(version) +
                                    " (this node reads version " + std::to_string(kBlockVersion) +
                                    ")");
  }
  LEDGER_RETURN_IF_ERROR(r.string8("chain id", h.chain_id));
  LEDGER_RETURN_IF_ERROR(validate_chain_id(h.chain_id));
  LEDGER_RETURN_IF_ERROR(r.u64("height", h.height));
  LEDGER_RETURN_IF_ERROR(r.u64("round", h.round));
  LEDGER_RETURN_IF_ERROR(r.fixed("parent id", h.parent_id.bytes));
  LEDGER_RETURN_IF_ERROR(read_qc(r, h.parent_qc));
  LEDGER_RETURN_IF_ERROR(r.fixed("proposer", h.proposer.bytes));
  LEDGER_RETURN_IF_ERROR(r.u64("timestamp", h.timestamp_ms));
  LEDGER_RETURN_IF_ERROR(r.fixed("transactions root", h.transactions_root.bytes));
  LEDGER_RETURN_IF_ERROR(r.fixed("state root", h.state_root.bytes));
  return Status::ok();
}

}  // namespace

StatusOr<BlockHeader> decode_header(ByteView bytes) {
  ByteReader r(bytes);
  BlockHeader h;
  LEDGER_RETURN_IF_ERROR(read_header(r, h));
  LEDGER_RETURN_IF_ERROR(r.finish("block header"));
  return h;
}

Hash block_id(const BlockHeader& header) {
  return sha256(encode_header(header));
}

Hash Block::id() const {
  return block_id(header);
}

Bytes encode_block(const Block& block) {
  ByteWriter w;
  w.bytes32(encode_header(block.header));
  w.u32(static_cast<std::uint32_t>(block.transactions.size()));
  for (const auto& tx : block.transactions)
    w.bytes32(encode_transaction(tx));
  return std::move(w).take();
}

StatusOr<Block> decode_block(ByteView bytes, const BlockLimits& limits) {
  if (bytes.size() > limits.bytes_max) {
    return Status::invalid_argument("block is " + std::to_string(bytes.size()) +
                                    " bytes, the limit is " + std::to_string(limits.bytes_max));
  }
  ByteReader r(bytes);
  Block block;
  ByteView header_bytes;
  LEDGER_RETURN_IF_ERROR(r.view32("block header", bytes.size(), header_bytes));
  LEDGER_ASSIGN_OR_RETURN(block.header, decode_header(header_bytes));
  std::uint32_t count = 0;
  LEDGER_RETURN_IF_ERROR(r.u32("transaction count", count));
  if (count > limits.transactions_max) {
    return Status::invalid_argument("block has " + std::to_string(count) +
                                    " transactions, the limit is " +
                                    std::to_string(limits.transactions_max));
  }
  // Each transaction needs at least its 4-byte length prefix; reject impossible counts before
  // reserving memory for them.
  if (count > r.remaining() / 4) {
    return Status::invalid_argument("transaction count " + std::to_string(count) +
                                    " does not fit in the remaining " +
                                    std::to_string(r.remaining()) + " bytes");
  }
  block.transactions.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    ByteView tx_bytes;
    LEDGER_RETURN_IF_ERROR(r.view32("transaction", kTransferBytesMax, tx_bytes));
    auto tx = decode_transaction(tx_bytes);
    if (!tx.is_ok()) return tx.status().with_context("transaction " + std::to_string(i));
    block.transactions.push_back(std::move(tx).value());
  }
  LEDGER_RETURN_IF_ERROR(r.finish("block"));
  return block;
}

Hash transactions_root(const std::vector<SignedTransfer>& transactions) {
  if (transactions.empty()) return sha256({});
  std::vector<Hash> level;
  level.reserve(transactions.size());
  for (const auto& tx : transactions) {
    Hash h = transaction_hash(tx);
    std::uint8_t prefix = 0x00;
    level.push_back(Sha256().update({&prefix, 1}).update(h.bytes).finish());
  }
  while (level.size() > 1) {
    std::vector<Hash> next;
    next.reserve((level.size() + 1) / 2);
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
      std::uint8_t prefix = 0x01;
      next.push_back(
          Sha256().update({&prefix, 1}).update(level[i].bytes).update(level[i + 1].bytes).finish());
    }
    if (level.size() % 2 == 1) next.push_back(level.back());
    level = std::move(next);
  }
  return level.front();
}

QuorumCert genesis_qc(const Block& genesis) {
  LEDGER_ASSERT(genesis.header.height == 0 && genesis.header.round == 0);
  QuorumCert qc;
  qc.data.block_id = genesis.id();
  qc.data.round = 0;
  qc.data.parent_id = genesis.header.parent_id;
  qc.data.parent_round = 0;
  return qc;
}

}  // namespace ledger
