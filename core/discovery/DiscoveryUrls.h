#pragma once

#include <QList>
#include <QString>
#include <QUrl>

namespace mcpauth {

/// The well-known URLs an MCP client tries, in the order the MCP authorization specification
/// (2025-11-25, "Authorization Server Discovery") requires. Pure functions: no network.
class DiscoveryUrls
{
public:
    /// RFC 9728 §3.1 for an MCP server URL: the path-aware
    /// `/.well-known/oauth-protected-resource/<path>` (omitted when the path is empty or "/"),
    /// then the root `/.well-known/oauth-protected-resource`. The MCP URL's query is dropped.
    /// Empty for a URL without scheme or host.
    static QList<QUrl> protectedResourceMetadata(const QUrl &mcpUrl);

    /// RFC 8414 §3.1 and OpenID Connect Discovery §4 for an issuer. With a path (`/tenant1`):
    /// `/.well-known/oauth-authorization-server/tenant1`, `/.well-known/openid-configuration/tenant1`,
    /// `/tenant1/.well-known/openid-configuration`. Without: `/.well-known/oauth-authorization-server`,
    /// `/.well-known/openid-configuration`. Empty for an issuer that is not an absolute URL.
    static QList<QUrl> authorizationServerMetadata(const QString &issuer);
};

} // namespace mcpauth
