#pragma once

#include "common/Json.h"
#include "common/Result.h"

#include <QString>

#include <algorithm>

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
    /// What a caller's `minValidSeconds` means for these tokens: at most half their lifetime, or a
    /// short-lived token would always count as expiring.
    qint64 effectiveMinValid(qint64 minValidSeconds) const
    {
        const qint64 lifetime = expiresAt > 0 ? expiresAt - obtainedAt : 0;
        return lifetime > 0 ? std::min(minValidSeconds, lifetime / 2) : minValidSeconds;
    }
    /// The last second (Unix time) at which they serve a caller asking for `minValidSeconds`
    /// (isValidFor(now, effectiveMinValid(…)) holds up to it); 0: no known end.
    qint64 servableUntil(qint64 minValidSeconds) const
    {
        return expiresAt == 0 ? 0 : expiresAt - effectiveMinValid(minValidSeconds);
    }

    /// Parses a successful token endpoint response (RFC 6749 §5.1). `now` stamps expiresAt from
    /// expires_in. `requestedScope` is used when the response omits `scope` (RFC 6749 §5.1).
    /// `previous` supplies the refresh token when a refresh response carries none (keep the old one).
    /// expires_in may be a number or a numeric string; it is capped at 10 years, and a value that is
    /// not positive (RFC 6749 §5.1) is ignored: the lifetime is then unknown, as if it were absent.
    /// Errors: invalid_json, invalid_token_response (no access_token), unsupported_token_type
    /// (token_type missing or not Bearer, compared case-insensitively), invalid_token_characters
    /// (a token outside the character sets below: it would end up in an HTTP header).
    static Result<TokenSet> fromTokenResponse(const QByteArray &body, qint64 now,
                                              const QString &requestedScope,
                                              const TokenSet *previous = nullptr);

    /// RFC 6750 §2.1 / RFC 6749 §A.12: an access token is sent as `Authorization: Bearer <token>`,
    /// so it must be 1*VSCHAR without spaces (%x21-7E): no CR, LF, control or non-ASCII character
    /// can ever reach a header. At most maxTokenChars.
    static bool isValidAccessToken(const QString &token);
    /// RFC 6749 §A.17: refresh_token = 1*VSCHAR (%x20-7E). At most maxTokenChars.
    static bool isValidRefreshToken(const QString &token);
    static constexpr qsizetype maxTokenChars = 16 * 1024;

    Json toSecretJson() const;
    static Result<TokenSet> fromSecretJson(const QByteArray &bytes);
};

} // namespace mcpauth
