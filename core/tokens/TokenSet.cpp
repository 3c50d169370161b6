#include "tokens/TokenSet.h"

#include <algorithm>
#include <cmath>

namespace mcpauth {

namespace {

constexpr qint64 kMaxLifetime = 10LL * 365 * 24 * 3600; // 10 years

Error invalidResponse(const QString &message)
{
    return Error::protocol(QStringLiteral("invalid_token_response"), message);
}

// RFC 6749 §5.1: expires_in is a number of seconds. Some servers send it as a string ("3600").
// nullopt when absent, unreadable or not positive (an "already expired" token would be refreshed on
// every call); otherwise capped at 10 years so an absurd value cannot overflow expiresAt.
std::optional<qint64> lifetime(const Json &object)
{
    const auto it = object.find("expires_in");
    if (it == object.end())
        return std::nullopt;
    double seconds = 0;
    if (it->is_number_unsigned())
        seconds = double(it->get<quint64>());
    else if (it->is_number_integer())
        seconds = double(it->get<qint64>());
    else if (it->is_number_float())
        seconds = it->get<double>();
    else if (it->is_string()) {
        bool ok = false;
        seconds = QString::fromStdString(it->get<std::string>()).trimmed().toDouble(&ok);
        if (!ok)
            return std::nullopt;
    } else
        return std::nullopt;
    if (std::isnan(seconds) || seconds < 1)
        return std::nullopt;
    return qint64(std::min(seconds, double(kMaxLifetime)));
}

bool allCharsIn(const QString &token, char16_t first, char16_t last)
{
    if (token.isEmpty() || token.size() > TokenSet::maxTokenChars)
        return false;
    return std::all_of(token.begin(), token.end(),
                       [first, last](QChar c) { return c.unicode() >= first && c.unicode() <= last; });
}

Error badCharacters(const char *which)
{
    return Error::protocol(QStringLiteral("invalid_token_characters"),
                           QStringLiteral("the server issued an %1 with characters a token may not have "
                                          "(RFC 6749 Appendix A); it was refused and nothing was stored")
                               .arg(QLatin1String(which)));
}

} // namespace

bool TokenSet::isValidAccessToken(const QString &token)
{
    return allCharsIn(token, 0x21, 0x7e);
}

bool TokenSet::isValidRefreshToken(const QString &token)
{
    return allCharsIn(token, 0x20, 0x7e);
}

Result<TokenSet> TokenSet::fromTokenResponse(const QByteArray &body, qint64 now,
                                             const QString &requestedScope, const TokenSet *previous)
{
    const auto parsed = parseJsonObject(body, QStringLiteral("token response"));
    if (!parsed)
        return parsed.error();
    const Json &json = parsed.value();

    TokenSet set;
    set.accessToken = jsonString(json, "access_token");
    if (set.accessToken.isEmpty())
        return invalidResponse(QStringLiteral("token response has no access_token"));
    // Checked where it enters: a CR/LF in a token would become extra headers in every request the
    // proxy sends, and in `mcp-auth token --header`.
    if (!isValidAccessToken(set.accessToken))
        return badCharacters("access token");

    // RFC 6749 §5.1: token_type is required and case-insensitive (RFC 6749 §7.1). Only Bearer
    // (RFC 6750) is usable: a DPoP or MAC token would need proof-of-possession we do not send.
    const QString type = jsonString(json, "token_type");
    if (type.compare(QLatin1String("Bearer"), Qt::CaseInsensitive) != 0) {
        const QString shown = type.isEmpty() ? QStringLiteral("none") : type.left(32);
        return Error::protocol(
            QStringLiteral("unsupported_token_type"),
            QStringLiteral("token response has token_type \"%1\"; only Bearer is supported").arg(shown));
    }
    set.tokenType = QStringLiteral("Bearer");

    if (const auto seconds = lifetime(json))
        set.expiresAt = now + *seconds;

    // RFC 6749 §5.1: scope is omitted when identical to the scope requested.
    const QString granted = jsonString(json, "scope");
    set.scope = granted.isEmpty() ? requestedScope : granted;

    // RFC 6749 §6: a refresh response may omit refresh_token; the old one then stays valid.
    set.refreshToken = jsonString(json, "refresh_token");
    if (!set.refreshToken.isEmpty() && !isValidRefreshToken(set.refreshToken))
        return badCharacters("refresh token");
    if (set.refreshToken.isEmpty() && previous)
        set.refreshToken = previous->refreshToken;

    set.obtainedAt = now;
    return set;
}

Json TokenSet::toSecretJson() const
{
    return Json{
        {"access_token", toStd(accessToken)},
        {"refresh_token", toStd(refreshToken)},
        {"token_type", toStd(tokenType)},
        {"expires_at", expiresAt},
        {"scope", toStd(scope)},
        {"obtained_at", obtainedAt},
    };
}

Result<TokenSet> TokenSet::fromSecretJson(const QByteArray &bytes)
{
    const auto parsed = parseJsonObject(bytes, QStringLiteral("stored token set"));
    if (!parsed)
        return parsed.error();
    const Json &json = parsed.value();
    TokenSet set;
    set.accessToken = jsonString(json, "access_token");
    set.refreshToken = jsonString(json, "refresh_token");
    if (set.accessToken.isEmpty() && set.refreshToken.isEmpty())
        return Error::protocol(QStringLiteral("invalid_stored_tokens"),
                               QStringLiteral("stored token set is empty"));
    // The keychain is outside input too (another program may write our entries).
    if ((!set.accessToken.isEmpty() && !isValidAccessToken(set.accessToken)) ||
        (!set.refreshToken.isEmpty() && !isValidRefreshToken(set.refreshToken)))
        return Error::protocol(QStringLiteral("invalid_stored_tokens"),
                               QStringLiteral("stored tokens hold characters a token may not have"));
    const QString type = jsonString(json, "token_type");
    set.tokenType = type.isEmpty() ? QStringLiteral("Bearer") : type;
    set.expiresAt = jsonInt(json, "expires_at").value_or(0);
    set.scope = jsonString(json, "scope");
    set.obtainedAt = jsonInt(json, "obtained_at").value_or(0);
    return set;
}

} // namespace mcpauth
