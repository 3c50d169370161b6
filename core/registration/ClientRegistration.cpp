#include "registration/ClientRegistration.h"

namespace mcpauth {

namespace {

std::optional<ClientRegistration::Source> sourceFromName(const QString &name)
{
    using Source = ClientRegistration::Source;
    for (const Source s : {Source::PreRegistered, Source::MetadataDocument, Source::Dynamic})
        if (ClientRegistration::sourceName(s) == name)
            return s;
    return std::nullopt;
}

Error invalidStored(const QString &what)
{
    return Error::protocol(QStringLiteral("invalid_registration"),
                           QStringLiteral("stored client registration ") + what);
}

} // namespace

QString ClientRegistration::authMethodName(AuthMethod method)
{
    // RFC 7591 §2: the token_endpoint_auth_method values this agent can use.
    switch (method) {
    case AuthMethod::None:
        return QStringLiteral("none");
    case AuthMethod::ClientSecretBasic:
        return QStringLiteral("client_secret_basic");
    case AuthMethod::ClientSecretPost:
        return QStringLiteral("client_secret_post");
    }
    return QStringLiteral("none");
}

std::optional<ClientRegistration::AuthMethod> ClientRegistration::authMethodFromName(const QString &name)
{
    for (const AuthMethod m : {AuthMethod::None, AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost})
        if (authMethodName(m) == name)
            return m;
    return std::nullopt; // e.g. private_key_jwt, tls_client_auth: not supported
}

QString ClientRegistration::sourceName(Source source)
{
    switch (source) {
    case Source::PreRegistered:
        return QStringLiteral("pre-registered");
    case Source::MetadataDocument:
        return QStringLiteral("client-metadata-document");
    case Source::Dynamic:
        return QStringLiteral("dynamic");
    }
    return QStringLiteral("dynamic");
}

Json ClientRegistration::toJson() const
{
    // design.md "Storage": the client secret lives in the keychain only, so it is never written here.
    return Json{
        {"source", toStd(sourceName(source))},
        {"issuer", toStd(issuer)},
        {"client_id", toStd(clientId)},
        {"client_secret_expires_at", clientSecretExpiresAt},
        {"token_endpoint_auth_method", toStd(authMethodName(authMethod))},
        {"redirect_uri", toStd(redirectUri)},
        {"registered_at", registeredAt},
    };
}

Result<ClientRegistration> ClientRegistration::fromJson(const Json &json)
{
    if (!json.is_object())
        return invalidStored(QStringLiteral("is not a JSON object"));
    ClientRegistration r;
    r.issuer = jsonString(json, "issuer");
    r.clientId = jsonString(json, "client_id");
    if (r.issuer.isEmpty() || r.clientId.isEmpty())
        return invalidStored(QStringLiteral("has no issuer or client_id"));

    const auto source = sourceFromName(jsonString(json, "source"));
    if (!source)
        return invalidStored(QStringLiteral("has an unknown source"));
    r.source = *source;

    const auto method = authMethodFromName(jsonString(json, "token_endpoint_auth_method"));
    if (!method)
        return invalidStored(QStringLiteral("has an unknown token_endpoint_auth_method"));
    r.authMethod = *method;

    r.clientSecretExpiresAt = jsonInt(json, "client_secret_expires_at").value_or(0);
    r.redirectUri = jsonString(json, "redirect_uri");
    r.registeredAt = jsonInt(json, "registered_at").value_or(0);
    return r;
}

} // namespace mcpauth
