#include "discovery/ResourceUri.h"

#include "discovery/MetadataFields.h"
#include "net/Origin.h"

namespace mcpauth {

Result<QUrl> ResourceUri::canonical(const QUrl &url)
{
    const auto invalid = [](const QString &why) {
        return Error::config(QStringLiteral("invalid_resource"),
                             QStringLiteral("invalid MCP server URL: ") + why);
    };
    if (!isAbsoluteUrl(url))
        return invalid(QStringLiteral("not an absolute URL with a host"));
    if (!isHttpUrl(url))
        return invalid(QStringLiteral("only http and https URLs are supported"));
    const QString scheme = url.scheme().toLower();
    // Userinfo would end up in the resource parameter and in logs; a server URL never needs it.
    if (!url.userInfo().isEmpty())
        return invalid(QStringLiteral("the URL must not contain a user name or password"));

    QUrl out;
    // RFC 8707 §2 / MCP "Canonical Server URI": lower-case scheme and host.
    out.setScheme(scheme);
    out.setHost(url.host(QUrl::FullyEncoded).toLower(), QUrl::TolerantMode);
    // RFC 3986 §6.2.3: the default port is the same as no port.
    const int defaultPort = scheme == QLatin1String("https") ? 443 : 80;
    if (url.port() != -1 && url.port() != defaultPort)
        out.setPort(url.port());
    // MCP "Canonical Server URI": omit the trailing slash unless significant; a path of only "/"
    // is the same resource as no path (`https://mcp.example.com`).
    QString path = url.path(QUrl::FullyEncoded);
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    out.setPath(path, QUrl::TolerantMode);
    // RFC 8707 §2: the resource MAY have a query; it MUST NOT have a fragment (dropped here).
    if (!url.query(QUrl::FullyEncoded).isEmpty())
        out.setQuery(url.query(QUrl::FullyEncoded), QUrl::TolerantMode);
    if (!out.isValid())
        return invalid(QStringLiteral("not a valid URL"));
    return out;
}

QString ResourceUri::toString(const QUrl &canonical)
{
    return canonical.toString(QUrl::FullyEncoded);
}

bool ResourceUri::sameResource(const QString &published, const QUrl &canonical)
{
    const Result<QUrl> other = ResourceUri::canonical(QUrl(published, QUrl::StrictMode));
    return other.ok() && toString(*other) == toString(canonical);
}

bool ResourceUri::covers(const QString &published, const QUrl &canonical)
{
    const QUrl url(published, QUrl::StrictMode);
    const Result<QUrl> other = ResourceUri::canonical(url);
    if (!other || url.hasQuery() || url.hasFragment())
        return false;
    if (!Origin::same(*other, canonical))
        return false;
    QString prefix = other->path(QUrl::FullyEncoded);
    while (prefix.endsWith(QLatin1Char('/')))
        prefix.chop(1);
    const QString path = canonical.path(QUrl::FullyEncoded);
    return prefix.isEmpty() || path == prefix || path.startsWith(prefix + QLatin1Char('/'));
}

} // namespace mcpauth
