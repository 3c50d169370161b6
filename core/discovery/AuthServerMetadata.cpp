#include "discovery/AuthServerMetadata.h"

#include "discovery/MetadataFields.h"
#include "net/UrlPolicy.h"

namespace mcpauth {

namespace {

Error invalid(const QString &why)
{
    return Error::protocol(QStringLiteral("invalid_metadata"),
                           QStringLiteral("authorization server metadata: ") + why);
}

/// Reads an endpoint member. Absent → empty URL; present but not an absolute URL → error.
Result<QUrl> endpoint(const Json &json, const char *key, bool required)
{
    const QString text = jsonString(json, key);
    if (text.isEmpty()) {
        if (required)
            return invalid(QStringLiteral("\"%1\" is missing").arg(QLatin1String(key)));
        return QUrl();
    }
    const QUrl url = parseAbsoluteUrl(text);
    if (url.isEmpty())
        return invalid(QStringLiteral("\"%1\" is not an absolute URL").arg(QLatin1String(key)));
    return url;
}

/// Fields and the checks that do not depend on how the document was found.
Result<AuthServerMetadata> read(const Json &json)
{
    if (!json.is_object())
        return invalid(QStringLiteral("not a JSON object"));
    AuthServerMetadata m;
    m.issuer = jsonString(json, "issuer");
    if (m.issuer.isEmpty())
        return invalid(QStringLiteral("\"issuer\" is missing"));

    struct Field
    {
        const char *key;
        QUrl AuthServerMetadata::*member;
        bool required;
    };
    // RFC 8414 §2: authorization_endpoint is required for the code grant, token_endpoint unless
    // only the implicit grant is supported (never the case for MCP).
    static const Field fields[] = {
        {"authorization_endpoint", &AuthServerMetadata::authorizationEndpoint, true},
        {"token_endpoint", &AuthServerMetadata::tokenEndpoint, true},
        {"registration_endpoint", &AuthServerMetadata::registrationEndpoint, false},
        {"revocation_endpoint", &AuthServerMetadata::revocationEndpoint, false},
    };
    for (const Field &f : fields) {
        Result<QUrl> url = endpoint(json, f.key, f.required);
        if (!url)
            return url.error();
        // MCP "Communication Security": every authorization server endpoint MUST be HTTPS
        // (loopback excepted for development and tests).
        if (!url->isEmpty() && !isSecureEndpoint(*url))
            return Error::security(QStringLiteral("insecure_endpoint"),
                                   QStringLiteral("the authorization server's %1 (%2) does not use HTTPS")
                                       .arg(QLatin1String(f.key), url->host()));
        m.*(f.member) = *url;
    }

    m.scopesSupported = jsonStringList(json, "scopes_supported");
    m.responseTypesSupported = jsonStringList(json, "response_types_supported").value_or(QStringList());
    m.codeChallengeMethodsSupported = jsonStringList(json, "code_challenge_methods_supported");
    m.tokenEndpointAuthMethodsSupported = jsonStringList(json, "token_endpoint_auth_methods_supported");
    m.clientIdMetadataDocumentSupported =
        jsonBool(json, "client_id_metadata_document_supported").value_or(false);
    m.authorizationResponseIssParameterSupported =
        jsonBool(json, "authorization_response_iss_parameter_supported").value_or(false);

    // MCP 2025-11-25 "Authorization Code Protection": if code_challenge_methods_supported is absent
    // the server does not support PKCE and clients MUST refuse to proceed; S256 MUST be used.
    if (!m.codeChallengeMethodsSupported ||
        !m.codeChallengeMethodsSupported->contains(QStringLiteral("S256")))
        return Error::security(
            QStringLiteral("pkce_unsupported"),
            QStringLiteral("the authorization server %1 does not advertise PKCE with S256 "
                           "(code_challenge_methods_supported), so signing in would be unsafe")
                .arg(m.issuer));
    // The authorization code flow is the only one an MCP client uses.
    if (json.contains("response_types_supported") &&
        !m.responseTypesSupported.contains(QStringLiteral("code")))
        return invalid(QStringLiteral("\"response_types_supported\" does not include \"code\""));
    return m;
}

} // namespace

Result<AuthServerMetadata> AuthServerMetadata::parse(const QByteArray &body, const QString &expectedIssuer)
{
    Result<Json> json = parseJsonObject(body, QStringLiteral("authorization server metadata"));
    if (!json)
        return json.error();
    // RFC 8414 §3.3: the issuer MUST be identical to the issuer used to build the metadata URL,
    // else the metadata MUST NOT be used. Simple string comparison, no normalisation (a trailing
    // slash is a different issuer). Checked first: nothing else in a foreign document matters.
    const QString issuer = jsonString(*json, "issuer");
    if (issuer != expectedIssuer)
        return Error::security(QStringLiteral("issuer_mismatch"),
                               QStringLiteral("the authorization server metadata names issuer \"%1\" but was "
                                              "fetched for \"%2\"")
                                   .arg(issuer, expectedIssuer));
    return read(*json);
}

Json AuthServerMetadata::toJson() const
{
    Json json = Json::object();
    json["issuer"] = toStd(issuer);
    const auto put = [&json](const char *key, const QUrl &url) {
        if (!url.isEmpty())
            json[key] = toStd(url.toString(QUrl::FullyEncoded));
    };
    put("authorization_endpoint", authorizationEndpoint);
    put("token_endpoint", tokenEndpoint);
    put("registration_endpoint", registrationEndpoint);
    put("revocation_endpoint", revocationEndpoint);
    if (scopesSupported)
        json["scopes_supported"] = jsonArray(*scopesSupported);
    if (!responseTypesSupported.isEmpty())
        json["response_types_supported"] = jsonArray(responseTypesSupported);
    if (codeChallengeMethodsSupported)
        json["code_challenge_methods_supported"] = jsonArray(*codeChallengeMethodsSupported);
    if (tokenEndpointAuthMethodsSupported)
        json["token_endpoint_auth_methods_supported"] = jsonArray(*tokenEndpointAuthMethodsSupported);
    json["client_id_metadata_document_supported"] = clientIdMetadataDocumentSupported;
    json["authorization_response_iss_parameter_supported"] = authorizationResponseIssParameterSupported;
    return json;
}

Result<AuthServerMetadata> AuthServerMetadata::fromJson(const Json &json)
{
    // A cached document is validated again: the state file is not trusted more than the network.
    return read(json);
}

AuthServerMetadata AuthServerMetadata::legacyDefaults(const QString &issuer)
{
    AuthServerMetadata m;
    m.issuer = issuer;
    const QUrl base(issuer);
    const auto at = [&base](const char *path) {
        QUrl url = base;
        url.setPath(QLatin1String(path));
        return url;
    };
    m.authorizationEndpoint = at("/authorize");
    m.tokenEndpoint = at("/token");
    m.registrationEndpoint = at("/register");
    m.responseTypesSupported = {QStringLiteral("code")};
    m.codeChallengeMethodsSupported = QStringList{QStringLiteral("S256")};
    return m;
}

} // namespace mcpauth
