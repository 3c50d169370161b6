#include "proxy/McpHttp.h"

#include "net/OneShotPost.h"
#include "net/Origin.h"

#include <QIODevice>
#include <QNetworkAccessManager>
#include <QNetworkReply>

#include <algorithm>
#include <cstring>

namespace mcpauth {

QNetworkRequest McpHttp::request(const QUrl &url, const QByteArray &accept, const Headers &extraHeaders,
                                 const QString &token)
{
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("mcp-auth-proxy/" MCPAUTH_VERSION));
    // The bearer token must never follow a redirect to another origin.
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::SameOriginRedirectPolicy);
    req.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    req.setAttribute(QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    req.setTransferTimeout(0);
    for (const auto &[name, value] : extraHeaders)
        req.setRawHeader(name, value);
    req.setRawHeader(QByteArrayLiteral("Accept"), accept);
    if (!token.isEmpty())
        req.setRawHeader(QByteArrayLiteral("Authorization"), QByteArrayLiteral("Bearer ") + token.toUtf8());
    return req;
}

QNetworkReply *McpHttp::postOnce(QNetworkAccessManager *nam, QNetworkRequest req, const QByteArray &body)
{
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    return OneShotPost::post(nam, std::move(req), body);
}

QUrl McpHttp::redirectTarget(const QNetworkReply *reply)
{
    const int code = status(reply);
    if (code != 307 && code != 308)
        return {};
    const QUrl from = reply->url();
    const QUrl to = from.resolved(reply->attribute(QNetworkRequest::RedirectionTargetAttribute).toUrl());
    // The bearer token must never follow a redirect to another origin.
    return Origin::same(to, from) ? to : QUrl();
}

Result<QList<Json>> McpHttp::parseMessages(const QByteArray &body, const QString &what)
{
    const auto malformed = [&what](const QString &why) {
        return Error::protocol(QStringLiteral("malformed_response"), what + QStringLiteral(" ") + why);
    };
    const Result<Json> parsed = parseJson(body, what, kMaxMcpJsonDepth);
    if (!parsed)
        return Error::protocol(QStringLiteral("malformed_response"), parsed.error().message);
    const Json &doc = parsed.value();
    QList<Json> out;
    if (doc.is_object()) {
        out << doc;
        return out;
    }
    if (!doc.is_array() || doc.empty())
        return malformed(QStringLiteral("is not a JSON-RPC message"));
    for (const Json &item : doc) {
        if (!item.is_object())
            return malformed(QStringLiteral("holds a batch entry that is not a JSON-RPC message"));
        out << item;
    }
    return out;
}

std::optional<Json> McpHttp::errorResponse(const QByteArray &body, const Json &id)
{
    const Result<Json> parsed = parseJson(body, QStringLiteral("error response"), kMaxMcpJsonDepth);
    if (!parsed || !parsed->is_object() || !parsed->contains("error") || !(*parsed)["error"].is_object())
        return std::nullopt;
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", (*parsed)["error"]}};
}

int McpHttp::status(const QNetworkReply *reply)
{
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

QByteArray McpHttp::mediaType(const QNetworkReply *reply)
{
    const QByteArray type = reply->rawHeader(QByteArrayLiteral("Content-Type"));
    const qsizetype semicolon = type.indexOf(';');
    return (semicolon < 0 ? type : type.left(semicolon)).trimmed().toLower();
}

BearerChallenge McpHttp::challenge(const QNetworkReply *reply)
{
    QList<QByteArray> values;
    for (const auto &[name, value] : reply->rawHeaderPairs())
        if (name.compare(QByteArrayLiteral("WWW-Authenticate"), Qt::CaseInsensitive) == 0)
            values << value;
    return WwwAuthenticate::bearer(values);
}

} // namespace mcpauth
