#include "discovery/DiscoveryUrls.h"

#include "discovery/MetadataFields.h"

namespace mcpauth {

namespace {

/// scheme://host[:port] of `url` plus the given (already encoded) path.
QUrl atOrigin(const QUrl &url, const QString &encodedPath)
{
    QUrl out;
    out.setScheme(url.scheme().toLower());
    out.setHost(url.host(QUrl::FullyEncoded), QUrl::TolerantMode);
    out.setPort(url.port());
    out.setPath(encodedPath, QUrl::TolerantMode);
    return out;
}

/// The URL's path, encoded, without terminating slashes ("/" and "" both give "").
QString trimmedPath(const QUrl &url)
{
    QString path = url.path(QUrl::FullyEncoded);
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    return path;
}

} // namespace

QList<QUrl> DiscoveryUrls::protectedResourceMetadata(const QUrl &mcpUrl)
{
    if (!isAbsoluteUrl(mcpUrl))
        return {};
    static const QString wellKnown = QStringLiteral("/.well-known/oauth-protected-resource");
    QList<QUrl> out;
    // RFC 9728 §3.1 / MCP 2025-11-25: path-aware URL first, "not applicable if the MCP server is at
    // the root"; then the root URL.
    const QString path = trimmedPath(mcpUrl);
    if (!path.isEmpty())
        out << atOrigin(mcpUrl, wellKnown + path);
    out << atOrigin(mcpUrl, wellKnown);
    return out;
}

QList<QUrl> DiscoveryUrls::authorizationServerMetadata(const QString &issuer)
{
    const QUrl url(issuer, QUrl::StrictMode);
    if (!isAbsoluteUrl(url))
        return {};
    static const QString oauth = QStringLiteral("/.well-known/oauth-authorization-server");
    static const QString oidc = QStringLiteral("/.well-known/openid-configuration");
    const QString path = trimmedPath(url);
    // MCP 2025-11-25 "Authorization Server Metadata Discovery": exactly these orders.
    if (path.isEmpty())
        return {atOrigin(url, oauth), atOrigin(url, oidc)};
    return {
        atOrigin(url, oauth + path), // RFC 8414 §3.1 path insertion
        atOrigin(url, oidc + path),  // OIDC with path insertion
        atOrigin(url, path + oidc),  // OIDC Discovery §4 path appending
    };
}

} // namespace mcpauth
