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

#include <optional>

class QNetworkAccessManager;
class QNetworkReply;

namespace mcpauth {

/// The HTTP pieces both MCP transports (Streamable HTTP and legacy HTTP+SSE) share: how a request to
/// an MCP server is built (bearer token, --header values, no cookies, same-origin redirects only, so
/// the token never follows a redirect elsewhere) and how a JSON body of messages is read. Failed
/// replies become Errors through HttpErrors.
class McpHttp
{
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    static constexpr auto jsonType = "application/json";
    static constexpr auto eventStreamType = "text/event-stream";
    /// Same-origin 307/308 redirects one POST may follow.
    static constexpr int maxRedirects = 5;

    /// A request to `url` with `Accept: accept`, the extra headers (from --header) and
    /// `Authorization: Bearer <token>` unless `token` is empty. No transfer timeout: callers time it.
    static QNetworkRequest request(const QUrl &url, const QByteArray &accept, const Headers &extraHeaders,
                                   const QString &token);

    /// POSTs `body` so that Qt sends it at most once. Qt resends a request on its own when the
    /// connection closes before any answer, even a POST (RFC 9110 §9.2.2: a client must not retry a
    /// non-idempotent request automatically); a tools/call would then run twice. The body goes out
    /// from a device that cannot be rewound, so such a drop is reported as an error instead
    /// (QNetworkReply::ContentReSendError). `req` must not follow redirects automatically (the body
    /// could not be sent again either): see redirectTarget().
    static QNetworkReply *postOnce(QNetworkAccessManager *nam, QNetworkRequest req, const QByteArray &body);
    /// For a 307/308 answer to a POST: the same-origin URL to POST to again, else an empty URL
    /// (no redirect, another origin, which must not see the token, or not a 307/308).
    static QUrl redirectTarget(const QNetworkReply *reply);

    /// One JSON-RPC message or a JSON array of them (a batch); anything else is
    /// Error::protocol("malformed_response"). `what` names the source in the error message.
    static Result<QList<Json>> parseMessages(const QByteArray &body, const QString &what);
    /// When an error status's body is a JSON-RPC error: that error as the response to request
    /// `id` (the server's answer, which the host gets as it is: mcp-2026-07-28.md checklist 21).
    static std::optional<Json> errorResponse(const QByteArray &body, const Json &id);

    /// The HTTP status of a reply whose headers arrived, 0 before that or without a response.
    static int status(const QNetworkReply *reply);
    /// The media type of the response, lower-cased, without parameters ("text/event-stream").
    static QByteArray mediaType(const QNetworkReply *reply);
    /// The Bearer challenge from the WWW-Authenticate header(s) of a 401/403 reply.
    static BearerChallenge challenge(const QNetworkReply *reply);
};

} // namespace mcpauth
