#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

namespace mcpauth {

/// An OAuth error response body ({"error": "...", "error_description": "..."}) as sent by token
/// (RFC 6749 §5.2), registration (RFC 7591 §3.2.2) and revocation (RFC 7009 §2.2.1) endpoints,
/// made safe to show: the code is reduced to a short machine token, the description to short
/// printable ASCII, and any secret the request carried is cut out in case the server echoes it.
struct OAuthError
{
    QString code;        ///< e.g. "invalid_grant"; never empty in a parsed value
    QString description; ///< may be empty

    /// nullopt when the body is not a JSON object with a string "error".
    /// `secrets` are the secret values the request sent (code, verifier, tokens, client secret).
    static std::optional<OAuthError> parse(const QByteArray &body, const QStringList &secrets = {});

    /// "<code>: <description>", or just the code.
    QString describe() const;

    /// Letters, digits, "_", "-", "." only, at most 64 characters.
    static QString sanitizeCode(const QString &code);
    /// RFC 6749 §5.2 error_description characters only (printable ASCII without '"' and '\'),
    /// at most 200 characters, with every secret of 4+ characters (also in its form-encoded and
    /// percent-encoded spellings) replaced by "[redacted]".
    static QString sanitizeText(const QString &text, const QStringList &secrets = {});
};

} // namespace mcpauth
