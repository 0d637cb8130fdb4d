// Blocks: the header that consensus agrees on, and the transactions it carries.
//
// Header encoding (signing-free; the block id is SHA-256 of it):
//   tag "ledgerd/block", version 1, chain id, height, round, parent id, parent QC, proposer,
//   timestamp (ms since the Unix epoch), transactions root, state root.
// state_root is the state digest after executing the parent block (for genesis: after the
// genesis allocation), so a replica whose state diverged finds out at the next block.
// The genesis block's parent id is the hash of the canonical genesis document.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/core/certificates.h"
#include "ledger/core/hash.h"
#include "ledger/core/keys.h"
#include "ledger/core/transaction.h"

namespace ledger {

inline constexpr std::string_view kBlockTag = "ledgerd/block";
inline constexpr std::uint8_t kBlockVersion = 1;

struct BlockHeader {
  std::string chain_id;
  std::uint64_t height = 0;        // parent height + 1; genesis is 0
  std::uint64_t round = 0;         // > parent round; genesis is 0
  Hash parent_id;                  // == parent_qc.block_id() except for genesis
  QuorumCert parent_qc;            // certifies the parent
  PublicKey proposer;              // all zero for genesis
  std::uint64_t timestamp_ms = 0;  // > parent's
  Hash transactions_root;          // transactions_root(transactions)
  Hash state_root;                 // state digest after the parent

  friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

struct Block {
  BlockHeader header;
  std::vector<SignedTransfer> transactions;

  Hash id() const;  // SHA-256 of the encoded header; computed on each call
  friend bool operator==(const Block&, const Block&) = default;
};

// Bounds a decoder enforces; they come from the genesis consensus parameters.
struct BlockLimits {
  std::uint32_t transactions_max = 10'000;
  std::uint64_t bytes_max = 8 * 1024 * 1024;
};

Bytes encode_header(const BlockHeader& header);
StatusOr<BlockHeader> decode_header(ByteView bytes);
Hash block_id(const BlockHeader& header);

// Wire/storage form: u32-prefixed header, u32 transaction count, u32-prefixed transactions.
Bytes encode_block(const Block& block);
// Strict: rejects more than limits.transactions_max transactions, more than limits.bytes_max
// bytes, any transaction that does not decode, and trailing bytes.
StatusOr<Block> decode_block(ByteView bytes, const BlockLimits& limits);

// Merkle root over the transaction hashes (RFC 6962 style: leaf = H(0x00 || tx hash),
// node = H(0x01 || left || right), odd node promoted; the empty list has root H("")).
Hash transactions_root(const std::vector<SignedTransfer>& transactions);

// The QC that certifies the genesis block: round 0, no signatures.
QuorumCert genesis_qc(const Block& genesis);

}  // namespace ledger
