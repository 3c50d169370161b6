#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QUrl>

namespace mcpauth {

/// One challenge of a WWW-Authenticate header (RFC 9110 §11.6.1): a scheme and either a token68
/// or a list of auth-params.
struct AuthChallenge
{
    QString scheme;                ///< as sent (compare case-insensitively)
    QString token68;               ///< e.g. the credentials blob of `Basic abc==`; empty when params are used
    QMap<QString, QString> params; ///< keys lower-cased, values unquoted with \-escapes resolved
};

/// What an MCP client needs from the Bearer challenge of a 401/403 (RFC 6750 §3, RFC 9728 §5.1).
struct BearerChallenge
{
    bool present = false;
    QUrl resourceMetadata; ///< empty unless an absolute http(s) URL was given
    QString scope;
    QString error;
    QString errorDescription;
};

/// Parser for WWW-Authenticate header values. Tolerant by design: several header lines, several
/// challenges per line, quoted strings with commas and escapes, token68, odd whitespace and
/// mixed case are understood; garbage is skipped and never makes the parser crash or loop.
class WwwAuthenticate
{
public:
    /// Every challenge found in the given header values, in order.
    static QList<AuthChallenge> parse(const QList<QByteArray> &headerValues);
    /// The first Bearer challenge (scheme compared case-insensitively); other schemes are ignored.
    static BearerChallenge bearer(const QList<QByteArray> &headerValues);
};

} // namespace mcpauth
