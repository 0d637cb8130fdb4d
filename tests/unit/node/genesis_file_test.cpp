// Genesis files (node/genesis_file.h): atomic write, bounded read, errors naming the path.
#include "ledger/node/genesis_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/temp_dir.h"

namespace ledger::node {
namespace {

Genesis sample_genesis() {
  std::vector<Validator> validators;
  validators.push_back(
      {PublicKey::from_hex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
           .value(),
       1, "v0"});
  Genesis g;
  g.chain_id = "ledgerd-test";
  g.genesis_time_ms = 1795305600123;
  g.validators = ValidatorSet::create(validators).value();
  g.accounts.push_back(
      {PublicKey::from_hex("c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5")
           .value(),
       42});
  return g;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good());
}

TEST(GenesisFile, WriteThenLoad_RoundTrips) {
  testing::TempDir dir;
  auto path = dir.path() / "genesis.json";
  Genesis g = sample_genesis();
  Status written = write_genesis_file(path, g);
  ASSERT_TRUE(written.is_ok()) << written.to_string();
  auto loaded = load_genesis_file(path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(*loaded, g);
  // No temporary file is left behind, and the file is world-readable.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(GenesisFile, Write_ReplacesAnExistingFile) {
  testing::TempDir dir;
  auto path = dir.path() / "genesis.json";
  write_text(path, "old contents");
  Genesis g = sample_genesis();
  ASSERT_TRUE(write_genesis_file(path, g).is_ok());
  auto loaded = load_genesis_file(path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(*loaded, g);
}

TEST(GenesisFile, Write_RefusesAnInvalidGenesis) {
  testing::TempDir dir;
  auto path = dir.path() / "genesis.json";
  Genesis g = sample_genesis();
  g.consensus.round_timeout_ms = 0;
  Status written = write_genesis_file(path, g);
  EXPECT_EQ(written.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(written.message().find("consensus.round_timeout_ms"), std::string::npos)
      << written.message();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(GenesisFile, Write_RefusesADocumentTooLargeToLoad) {
  testing::TempDir dir;
  auto path = dir.path() / "genesis.json";
  Genesis g = sample_genesis();
  // About 138 bytes of JSON per account: 500,000 accounts pass kGenesisFileBytesMax. The size
  // is checked before anything else, so the addresses need not be valid keys.
  g.accounts.resize(500'000);
  for (std::uint32_t i = 0; i < g.accounts.size(); ++i) {
    for (int b = 0; b < 4; ++b)
      g.accounts[i].address.bytes[b] = static_cast<std::uint8_t>(i >> (8 * (3 - b)));
    g.accounts[i].balance = 18'446'744'073'709'551'615ull;
  }
  Status written = write_genesis_file(path, g);
  EXPECT_EQ(written.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(written.message().find("limit that load_genesis_file enforces"), std::string::npos)
      << written.message();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(GenesisFile, Load_MissingFileIsNotFound) {
  testing::TempDir dir;
  auto path = dir.path() / "absent.json";
  auto loaded = load_genesis_file(path);
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(loaded.status().message().rfind(path.string(), 0), 0u) << loaded.status().message();
}

TEST(GenesisFile, Load_InvalidContentNamesPathAndField) {
  testing::TempDir dir;
  auto path = dir.path() / "genesis.json";
  std::string text = genesis_to_json(sample_genesis());
  text.replace(text.find("\"power\": 1"), 10, "\"power\": 0");
  write_text(path, text);
  auto loaded = load_genesis_file(path);
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(loaded.status().message(),
            path.string() + ": genesis: validators[0].power: must be a positive integer");
}

TEST(GenesisFile, Load_DirectoryIsRefused) {
  testing::TempDir dir;
  auto loaded = load_genesis_file(dir.path());
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
}

TEST(GenesisFile, Load_OversizedFileIsRefusedUnread) {
  testing::TempDir dir;
  auto path = dir.path() / "genesis.json";
  write_text(path, genesis_to_json(sample_genesis()));
  // One byte over the limit, sparse: the size alone must decide.
  std::filesystem::resize_file(path, kGenesisFileBytesMax + 1);
  auto loaded = load_genesis_file(path);
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(loaded.status().message().find("the limit is 67108864"), std::string::npos)
      << loaded.status().message();
  // A terabyte (sparse) file: reading or allocating it would not finish; refusing is instant.
  std::filesystem::resize_file(path, std::uintmax_t{1} << 40);
  loaded = load_genesis_file(path);
  ASSERT_FALSE(loaded.is_ok());
  EXPECT_NE(loaded.status().message().find("the limit is"), std::string::npos);
}

TEST(GenesisFile, Load_AcceptsAFileAtTheLimitSize) {
  // Whitespace padding up to exactly the limit still loads: the bound is inclusive.
  testing::TempDir dir;
  auto path = dir.path() / "genesis.json";
  std::string text = genesis_to_json(sample_genesis());
  text.resize(kGenesisFileBytesMax, ' ');
  write_text(path, text);
  auto loaded = load_genesis_file(path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(*loaded, sample_genesis());
}

}  // namespace
}  // namespace ledger::node
