#pragma once

#include <QUrl>

namespace mcpauth {

/// RFC 6454 origins, the one same-origin check for the engine and the proxy: a token or a
/// redirect may only go where scheme, host and port are those of the server it belongs to.
class Origin
{
public:
    /// True when `a` and `b` have the same scheme, host (both compared case-insensitively) and
    /// port, a missing port being the scheme's default (80 for http, 443 for https).
    static bool same(const QUrl &a, const QUrl &b);
    /// The port of `url`, or its scheme's default port (-1 for other schemes without one).
    static int effectivePort(const QUrl &url);
};

} // namespace mcpauth
