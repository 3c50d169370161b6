#pragma once

#include "common/Json.h"
#include "common/Result.h"

#include <QStringList>
#include <QUrl>

#include <optional>

namespace mcpauth {

/// RFC 8414 / OpenID Connect Discovery metadata of an authorization server, validated for use by
/// an MCP client: issuer identical to the one asked for, HTTPS endpoints (loopback excepted),
/// `code` among the response types, S256 among the PKCE methods.
struct AuthServerMetadata
{
    QString issuer; ///< exactly as published (RFC 8414 §3.3: identical to the issuer used)
    QUrl authorizationEndpoint;
    QUrl tokenEndpoint;
    QUrl registrationEndpoint; ///< empty when DCR is not offered
    QUrl revocationEndpoint;   ///< empty when RFC 7009 is not offered
    std::optional<QStringList> scopesSupported;
    QStringList responseTypesSupported;
    std::optional<QStringList> codeChallengeMethodsSupported;
    std::optional<QStringList> tokenEndpointAuthMethodsSupported;
    bool clientIdMetadataDocumentSupported = false;
    bool authorizationResponseIssParameterSupported = false; ///< RFC 9207

    /// Parses the document and checks everything above against `expectedIssuer`.
    /// Errors: invalid_json, issuer_mismatch (Security), pkce_unsupported (Security),
    /// insecure_endpoint (Security), invalid_metadata (Protocol: a required field missing or not a URL).
    static Result<AuthServerMetadata> parse(const QByteArray &body, const QString &expectedIssuer);
    Json toJson() const;
    static Result<AuthServerMetadata> fromJson(const Json &json);

    /// MCP 2025-03-26 "Fallbacks for Servers without Metadata Discovery": {issuer}/authorize,
    /// /token and /register. PKCE S256 is assumed (there is no document to check); only for the
    /// legacy case where no metadata exists at any well-known URL.
    static AuthServerMetadata legacyDefaults(const QString &issuer);

    bool supportsScope(const QString &scope) const
    {
        return scopesSupported && scopesSupported->contains(scope);
    }
};

} // namespace mcpauth
