#pragma once

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace mcpauth {

/// Builds the front-channel OAuth 2.1 authorization request for the browser (authorization code grant
/// with PKCE S256, `state`, RFC 8707 `resource`) and holds the scope rules of the MCP specification
/// 2025-11-25 (scope selection, `offline_access`, step-up union). Pure functions, no I/O.
class AuthorizationRequest
{
public:
    struct Params
    {
        QUrl authorizationEndpoint; ///< from validated AS metadata; its own query is kept
        QString clientId;
        QString redirectUri;
        QString codeChallenge; ///< S256 (Pkce::challenge)
        QString state;
        QString resource; ///< canonical MCP server URI (RFC 8707 §2); omitted only when empty
        QString scope;    ///< space-separated; empty → the `scope` parameter is omitted
        bool promptConsent = false;
        /// Extra authorization parameters. A key this class sets itself (response_type, client_id,
        /// redirect_uri, code_challenge, code_challenge_method, state, resource, scope, prompt) or
        /// code_verifier is dropped: extras can never override or duplicate the security parameters.
        QList<QPair<QString, QString>> extra;
    };

    /// The URL to open in the browser. Every added key and value is percent-encoded with everything
    /// but RFC 3986 unreserved characters encoded (space → %20, ':' → %3A, '/' → %2F, '+' → %2B), so
    /// form-urlencoded and plain RFC 3986 parsers read back the same values.
    static QUrl build(const Params &p);

    /// MCP 2025-11-25 "Scope Selection Strategy": the `scope` of the 401 challenge if any; else all
    /// PRM `scopes_supported` joined by spaces; else empty (omit `scope`).
    static QString selectScope(const QString &challengeScope,
                               const std::optional<QStringList> &prmScopesSupported);

    /// Adds `offline_access` (once) when the AS metadata's `scopes_supported` lists it, so a refresh
    /// token can be issued. An empty scope stays empty (see .cpp). Whenever the result contains
    /// `offline_access`, sets *promptConsent = true (OIDC Core §11); otherwise leaves it untouched.
    static QString withOfflineAccess(const QString &scope, bool asOffersOfflineAccess, bool *promptConsent);

    /// Order-preserving union of two space-separated scope lists without duplicates (step-up, SEP-2350).
    static QString unionScopes(const QString &a, const QString &b);

    /// The scope tokens of a space-separated list, in order, without empties or duplicates.
    static QStringList scopeTokens(const QString &scope);
};

} // namespace mcpauth
