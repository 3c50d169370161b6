#pragma once

#include "common/Error.h"

#include <QByteArray>
#include <QString>

class QNetworkReply;

namespace mcpauth {

/// The one mapping from a failed HTTP exchange to an Error, for the engine (HttpClient) and the
/// proxy's MCP transports alike, so the same failure reads the same everywhere and sorts into the
/// same category: network failures and 5xx are Error::network (retry later), TLS failures
/// Error::security (never retry), other statuses Error::protocol (surface).
class HttpErrors
{
public:
    /// Why `reply` produced no HTTP response (refused, not found, reset, TLS, timeout...):
    /// "unreachable", "connection_lost", "timeout", "redirect_loop" (network),
    /// "tls_failed", "insecure_redirect" (security).
    static Error fromReply(const QNetworkReply *reply);
    /// An HTTP error status nothing more specific applies to: 5xx and 429 are
    /// Error::network("server_error"), anything else Error::protocol("http_error"). `what` names
    /// the exchange ("example.com", "token endpoint"); the message quotes the start of the body.
    static Error fromStatus(const QString &what, int status, const QByteArray &body = {});
    /// A short, single-line excerpt of a response body for error messages.
    static QString excerpt(const QByteArray &body);
};

} // namespace mcpauth
