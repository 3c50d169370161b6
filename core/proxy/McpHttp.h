#pragma once

#include "common/Json.h"
#include "common/Result.h"
#include "discovery/WwwAuthenticate.h"

#include <QByteArray>
#include <QList>
#include <QNetworkRequest>
#include <QPair>
#include <QString>
#include <QUrl>

class QNetworkReply;

namespace mcpauth {

/// The HTTP pieces both MCP transports (Streamable HTTP and legacy HTTP+SSE) share: how a request to
/// an MCP server is built (bearer token, --header values, no cookies, same-origin redirects only, so
/// the token never follows a redirect elsewhere), how a JSON body of messages is read, and how a
/// failed reply becomes an Error.
class McpHttp
{
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    static constexpr auto jsonType = "application/json";
    static constexpr auto eventStreamType = "text/event-stream";

    /// A request to `url` with `Accept: accept`, the extra headers (from --header) and
    /// `Authorization: Bearer <token>` unless `token` is empty. No transfer timeout: callers time it.
    static QNetworkRequest request(const QUrl &url, const QByteArray &accept, const Headers &extraHeaders,
                                   const QString &token);

    /// One JSON-RPC message or a JSON array of them (a batch); anything else is
    /// Error::protocol("malformed_response"). `what` names the source in the error message.
    static Result<QList<Json>> parseMessages(const QByteArray &body, const QString &what);

    /// The HTTP status of a reply whose headers arrived, 0 before that or without a response.
    static int status(const QNetworkReply *reply);
    /// The media type of the response, lower-cased, without parameters ("text/event-stream").
    static QByteArray mediaType(const QNetworkReply *reply);
    /// The Bearer challenge from the WWW-Authenticate header(s) of a 401/403 reply.
    static BearerChallenge challenge(const QNetworkReply *reply);
    /// Why a reply produced no HTTP response (refused, TLS, reset...): an Error::network
    /// ("unreachable"/"connection_lost"), or Error::security("tls_failed").
    static Error networkError(const QNetworkReply *reply);
    /// An HTTP error status nothing more specific applies to: 5xx is Error::network("server_error"),
    /// anything else Error::protocol("http_error"); the message quotes the start of the body.
    static Error statusError(const QString &host, int status, const QByteArray &body);
    /// A short, single-line excerpt of a response body for error messages.
    static QString excerpt(const QByteArray &body);
};

} // namespace mcpauth
