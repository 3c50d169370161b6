#include "login/AuthorizationRequest.h"

namespace mcpauth {

namespace {

const QString kOfflineAccess = QStringLiteral("offline_access");

// The parameters this class owns. code_verifier is here too: it must never travel in the front channel.
bool isReserved(const QString &key)
{
    static const QStringList reserved = {
        QStringLiteral("response_type"),
        QStringLiteral("client_id"),
        QStringLiteral("redirect_uri"),
        QStringLiteral("code_challenge"),
        QStringLiteral("code_challenge_method"),
        QStringLiteral("state"),
        QStringLiteral("resource"),
        QStringLiteral("scope"),
        QStringLiteral("prompt"),
        QStringLiteral("code_verifier"),
    };
    return reserved.contains(key);
}

// RFC 3986 §2.3: only unreserved characters stay literal. QUrlQuery would leave '+', ':', '/', '?',
// '@' and friends unencoded; '+' in particular reads as a space to form-urlencoded parsers
// (RFC 6749 Appendix B), so a value containing it would arrive changed.
QByteArray encodeComponent(const QString &s)
{
    return QUrl::toPercentEncoding(s);
}

void append(QByteArray &query, const QString &key, const QString &value)
{
    if (!query.isEmpty())
        query += '&';
    query += encodeComponent(key) + '=' + encodeComponent(value);
}

} // namespace

QUrl AuthorizationRequest::build(const Params &p)
{
    QUrl url = p.authorizationEndpoint;
    QByteArray query;

    // RFC 6749 §3.1: the endpoint's own query "MUST be retained when adding additional query
    // parameters", and "Request and response parameters MUST NOT be included more than once" —
    // so an endpoint pair that collides with one of ours is dropped, keeping the others verbatim.
    const QString endpointQuery = url.query(QUrl::FullyEncoded);
    for (const QString &pair : endpointQuery.split(QLatin1Char('&'), Qt::SkipEmptyParts)) {
        const QString rawKey = pair.section(QLatin1Char('='), 0, 0);
        const QString key = QUrl::fromPercentEncoding(rawKey.toLatin1());
        if (isReserved(key))
            continue;
        if (!query.isEmpty())
            query += '&';
        query += pair.toLatin1();
    }

    // OAuth 2.1 §4.1.1 + RFC 7636 §4.3: code flow with S256 PKCE.
    append(query, QStringLiteral("response_type"), QStringLiteral("code"));
    append(query, QStringLiteral("client_id"), p.clientId);
    append(query, QStringLiteral("redirect_uri"), p.redirectUri);
    append(query, QStringLiteral("code_challenge"), p.codeChallenge);
    append(query, QStringLiteral("code_challenge_method"), QStringLiteral("S256"));
    append(query, QStringLiteral("state"), p.state);
    // MCP 2025-11-25 "Resource Parameter Implementation": MUST be sent regardless of AS support.
    if (!p.resource.isEmpty())
        append(query, QStringLiteral("resource"), p.resource);
    // MCP "Scope Selection Strategy": omit `scope` when nothing was selected.
    if (!p.scope.isEmpty())
        append(query, QStringLiteral("scope"), p.scope);
    if (p.promptConsent)
        append(query, QStringLiteral("prompt"), QStringLiteral("consent"));

    QStringList seenExtra;
    for (const auto &[key, value] : p.extra) {
        if (key.isEmpty() || isReserved(key) || seenExtra.contains(key))
            continue;
        seenExtra.append(key);
        append(query, key, value);
    }

    // StrictMode: the string is already fully percent-encoded and must be taken as is.
    url.setQuery(QString::fromLatin1(query), QUrl::StrictMode);
    return url;
}

QStringList AuthorizationRequest::scopeTokens(const QString &scope)
{
    // RFC 6749 §3.3: scope is a list of space-delimited, case-sensitive strings.
    QStringList out;
    for (const QString &token : scope.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        if (!out.contains(token))
            out.append(token);
    }
    return out;
}

QString AuthorizationRequest::selectScope(const QString &challengeScope,
                                          const std::optional<QStringList> &prmScopesSupported)
{
    // MCP 2025-11-25 "Scope Selection Strategy": 1. the challenge's scope; 2. all PRM
    // scopes_supported; otherwise omit the parameter.
    const QStringList fromChallenge = scopeTokens(challengeScope);
    if (!fromChallenge.isEmpty())
        return fromChallenge.join(QLatin1Char(' '));
    if (prmScopesSupported) {
        QStringList fromPrm;
        for (const QString &s : *prmScopesSupported)
            fromPrm.append(scopeTokens(s));
        return scopeTokens(fromPrm.join(QLatin1Char(' '))).join(QLatin1Char(' '));
    }
    return {};
}

QString AuthorizationRequest::withOfflineAccess(const QString &scope, bool asOffersOfflineAccess,
                                                bool *promptConsent)
{
    QStringList tokens = scopeTokens(scope);
    // MCP 2026-07-28 "Refresh tokens": clients MAY add offline_access when the AS lists it. Not when
    // nothing else is requested: scope=offline_access alone would replace the AS's default scope
    // (RFC 6749 §3.3) with a grant that cannot call the MCP server.
    if (asOffersOfflineAccess && !tokens.isEmpty() && !tokens.contains(kOfflineAccess))
        tokens.append(kOfflineAccess);
    // OIDC Core §11: with offline_access the prompt parameter MUST contain consent.
    if (tokens.contains(kOfflineAccess) && promptConsent)
        *promptConsent = true;
    return tokens.join(QLatin1Char(' '));
}

QString AuthorizationRequest::unionScopes(const QString &a, const QString &b)
{
    // SEP-2350 (MCP 2026-07-28): step-up asks for previously requested ∪ challenged scopes.
    return scopeTokens(a + QLatin1Char(' ') + b).join(QLatin1Char(' '));
}

} // namespace mcpauth
