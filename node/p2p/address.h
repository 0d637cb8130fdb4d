// host:port parsing and formatting shared by the listener and the dialers (internal).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/core/status.h"

namespace ledger::node::p2p {

struct HostPort {
  std::string host;  // IPv6 without brackets
  std::uint16_t port = 0;
};

// "host:port" or "[v6]:port". kInvalidArgument naming what is wrong; port 0 only if
// `port_zero_allowed`.
StatusOr<HostPort> parse_host_port(std::string_view text, bool port_zero_allowed);

// "host:port", or "[host]:port" when host contains ':'.
std::string format_host_port(std::string_view host, std::uint16_t port);

}  // namespace ledger::node::p2p
