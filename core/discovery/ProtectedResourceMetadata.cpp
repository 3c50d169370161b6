#include "discovery/ProtectedResourceMetadata.h"

#include "discovery/MetadataFields.h"

namespace mcpauth {

namespace {

Error invalid(const QString &why)
{
    return Error::protocol(QStringLiteral("invalid_metadata"),
                           QStringLiteral("protected resource metadata: ") + why);
}

} // namespace

Result<ProtectedResourceMetadata> ProtectedResourceMetadata::parse(const QByteArray &body)
{
    Result<Json> json = parseJsonObject(body, QStringLiteral("protected resource metadata"));
    if (!json)
        return json.error();
    return fromJson(*json);
}

Result<ProtectedResourceMetadata> ProtectedResourceMetadata::fromJson(const Json &json)
{
    if (!json.is_object())
        return invalid(QStringLiteral("not a JSON object"));
    ProtectedResourceMetadata m;
    // RFC 9728 §2: resource is REQUIRED, the protected resource's identifier (an absolute URL).
    m.resource = jsonString(json, "resource");
    if (m.resource.isEmpty())
        return invalid(QStringLiteral("\"resource\" is missing"));
    if (parseAbsoluteUrl(m.resource).isEmpty())
        return invalid(QStringLiteral("\"resource\" is not an absolute URL"));

    // MCP 2025-11-25: the document MUST include authorization_servers with at least one entry.
    const auto servers = json.find("authorization_servers");
    if (servers == json.end() || !servers->is_array() || servers->empty())
        return invalid(QStringLiteral("\"authorization_servers\" is missing or empty"));
    for (const Json &entry : *servers) {
        const QString issuer = entry.is_string() ? fromStd(entry.get<std::string>()) : QString();
        if (parseAbsoluteUrl(issuer).isEmpty())
            return invalid(QStringLiteral("an \"authorization_servers\" entry is not an absolute URL"));
        m.authorizationServers << issuer;
    }

    m.scopesSupported = jsonStringList(json, "scopes_supported");
    m.bearerMethodsSupported = jsonStringList(json, "bearer_methods_supported").value_or(QStringList());
    m.resourceName = jsonString(json, "resource_name");
    return m;
}

Json ProtectedResourceMetadata::toJson() const
{
    Json json = Json::object();
    json["resource"] = toStd(resource);
    json["authorization_servers"] = jsonArray(authorizationServers);
    if (scopesSupported)
        json["scopes_supported"] = jsonArray(*scopesSupported);
    if (!bearerMethodsSupported.isEmpty())
        json["bearer_methods_supported"] = jsonArray(bearerMethodsSupported);
    if (!resourceName.isEmpty())
        json["resource_name"] = toStd(resourceName);
    return json;
}

} // namespace mcpauth
