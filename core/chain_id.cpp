#include "ledger/core/chain_id.h"

#include <string>

namespace ledger {

Status validate_chain_id(std::string_view chain_id) {
  if (chain_id.empty()) return Status::invalid_argument("chain id is empty");
  if (chain_id.size() > kChainIdBytesMax) {
    return Status::invalid_argument("chain id is " + std::to_string(chain_id.size()) +
                                    " bytes, the limit is " + std::to_string(kChainIdBytesMax));
  }
  for (std::size_t i = 0; i < chain_id.size(); ++i) {
    char c = chain_id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::invalid_argument(
          "chain id has a character outside [A-Za-z0-9._-] at "
          "position " +
          std::to_string(i));
    }
  }
  return Status::ok();
}

}  // namespace ledger
