#pragma once

#include "common/Json.h"
#include "common/Result.h"

#include <QString>

namespace mcpauth {

/// Tokens for one (resource, issuer, account). Everything here is secret except expiresAt/scope;
/// a TokenSet is only ever serialized into the keychain (toSecretJson), never to disk or logs.
struct TokenSet
{
    QString accessToken;
    QString refreshToken; ///< empty when the server issued none
    QString tokenType = QStringLiteral("Bearer");
    qint64 expiresAt = 0; ///< Unix seconds; 0 = the server gave no lifetime
    QString scope;        ///< space-separated, as granted (or as requested when the server omits it)
    qint64 obtainedAt = 0;

    bool hasRefreshToken() const { return !refreshToken.isEmpty(); }
    /// True when an access token exists and stays valid for at least `minValidSeconds` more.
    /// A token without a known lifetime counts as valid (the server's 401 tells otherwise).
    bool isValidFor(qint64 now, qint64 minValidSeconds) const
    {
        return !accessToken.isEmpty() && (expiresAt == 0 || expiresAt - now >= minValidSeconds);
    }

    /// Parses a successful token endpoint response (RFC 6749 §5.1). `now` stamps expiresAt from
    /// expires_in. `requestedScope` is used when the response omits `scope` (RFC 6749 §5.1).
    /// `previous` supplies the refresh token when a refresh response carries none (keep the old one).
    /// expires_in may be a number or a numeric string; it is clamped to [0, 10 years].
    /// Errors: invalid_json, invalid_token_response (no access_token), unsupported_token_type
    /// (token_type missing or not Bearer, compared case-insensitively).
    static Result<TokenSet> fromTokenResponse(const QByteArray &body, qint64 now,
                                              const QString &requestedScope,
                                              const TokenSet *previous = nullptr);

    Json toSecretJson() const;
    static Result<TokenSet> fromSecretJson(const QByteArray &bytes);
};

} // namespace mcpauth
