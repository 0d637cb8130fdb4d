#include "address.h"

#include "ledger/node/p2p/transport.h"

namespace ledger::node::p2p {

StatusOr<HostPort> parse_host_port(std::string_view text, bool port_zero_allowed) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::invalid_argument("expected host:port, got " + quoted);
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return Status::invalid_argument("bad bracketed IPv6 host in " + quoted);
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Status::invalid_argument("an IPv6 host must be in brackets, e.g. \"[::1]:26656\" (got " +
                                    quoted + ")");
  }
  if (host.empty()) return Status::invalid_argument("missing host in " + quoted);
  for (char ch : host) {
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f ||
        ch == '[' || ch == ']' || ch == '@' || ch == '/') {
      return Status::invalid_argument("bad character in the host of " + quoted);
    }
  }
  if (port_text.empty() || port_text.size() > 5) {
    return Status::invalid_argument("bad port in " + quoted);
  }
  std::uint32_t port = 0;
  for (char ch : port_text) {
    if (ch < '0' || ch > '9') return Status::invalid_argument("bad port in " + quoted);
    port = port * 10 + static_cast<std::uint32_t>(ch - '0');
  }
  if (port > 65535 || (port == 0 && !port_zero_allowed)) {
    return Status::invalid_argument(std::string("port must be ") + (port_zero_allowed ? "0" : "1") +
                                    " to 65535 in " + quoted);
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(port)};
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  if (host.find(':') != std::string_view::npos) {
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

std::string PeerAddress::to_string() const {
  return key.hex() + "@" + format_host_port(host, port);
}

StatusOr<PeerAddress> parse_peer_address(std::string_view text) {
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos) {
    return Status::invalid_argument("expected <64 hex public key>@host:port, got \"" +
                                    std::string(text) + "\"");
  }
  auto key = PublicKey::from_hex(text.substr(0, at));
  if (!key.is_ok()) return key.status().with_context("peer public key before '@'");
  LEDGER_ASSIGN_OR_RETURN(HostPort host_port,
                          parse_host_port(text.substr(at + 1), /*port_zero_allowed=*/false));
  return PeerAddress{*key, std::move(host_port.host), host_port.port};
}

}  // namespace ledger::node::p2p
