#pragma once

#include "common/Error.h"
#include "common/Json.h"

namespace mcpauth {

/// Stable JSON-RPC error codes of the agent's local socket protocol (design.md "Local socket
/// protocol"). Hosts code against these numbers: never renumber, only add. -32700..-32600 are the
/// JSON-RPC 2.0 reserved codes; -32000..-32099 is the range it leaves to servers.
namespace RpcError {
enum : int {
    ParseError = -32700,     ///< the line is not JSON
    InvalidRequest = -32600, ///< JSON, but not a JSON-RPC 2.0 request object (also: too large, batch)
    MethodNotFound = -32601,
    InvalidParams = -32602,
    InternalError = -32603,
    Busy = -32000,                ///< too many pending requests or connections; retry later
    LoginRequired = -32001,       ///< the user has to sign in (again)
    ApprovalDenied = -32002,      ///< the user did not approve this app for this server
    PolicyDenied = -32003,        ///< IT policy forbids the server or authorization server
    ServerUnreachable = -32004,   ///< network failure talking to the MCP or authorization server
    KeychainUnavailable = -32005, ///< no secret storage answers
    AuthorizationFailed = -32006, ///< protocol or security problem with the server's OAuth setup
    Cancelled = -32007,
};
} // namespace RpcError

/// The JSON-RPC error code an Error is reported with. Specific Error codes ("policy_denied",
/// "approval_denied", "invalid_params") win over the category.
int rpcCodeFor(const Error &e);
/// The `data` member for an error response: {"code": e.code, "category": categoryName(e.category)},
/// and "reason" when the error has one (approvals and policy: "user", "timeout", "policy", "identity").
Json rpcErrorData(const Error &e);

} // namespace mcpauth
