#pragma once

#include "common/Result.h"

#include <QString>
#include <QUrl>

namespace mcpauth {

/// The canonical resource URI of an MCP server (RFC 8707 §2, MCP authorization "Canonical Server
/// URI"): the value sent as `resource` in every authorization and token request, and the one the
/// `resource` of its protected resource metadata is compared with.
///
/// Canonical form: absolute http/https URL without userinfo or fragment, lower-case scheme and
/// host, no default port, no trailing slash (a bare "/" path becomes no path), query kept.
class ResourceUri
{
public:
    /// Error::config("invalid_resource") for anything that is not an absolute http(s) URL with a
    /// host, or that carries userinfo.
    static Result<QUrl> canonical(const QUrl &url);
    /// The exact string sent as `resource` (fully encoded).
    static QString toString(const QUrl &canonical);
    /// RFC 9728 §3.3 check: does a published `resource` value name this canonical URI? The
    /// published string is canonicalised first, then compared exactly.
    static bool sameResource(const QString &published, const QUrl &canonical);
    /// Whether `published` (a PRM `resource`) covers `canonical`: same scheme, host and port, no
    /// query or fragment, and its path a whole-segment prefix of the canonical URL's path
    /// ("/api" covers "/api/mcp", not "/apix"; a bare origin covers everything on it).
    static bool covers(const QString &published, const QUrl &canonical);
};

} // namespace mcpauth
