#include "engine/ServerConfig.h"

#include "net/UrlPolicy.h"
#include "registration/DynamicRegistration.h"

namespace mcpauth {

namespace {

Error invalid(const QString &why)
{
    return Error::config(QStringLiteral("invalid_config"), why);
}

/// A member that must be a JSON object when present.
Result<Json> objectMember(const Json &json, const char *key)
{
    const auto it = json.find(key);
    if (it == json.end() || it->is_null())
        return Json::object();
    if (!it->is_object())
        return invalid(QStringLiteral("params.%1 must be an object").arg(QLatin1String(key)));
    return *it;
}

/// A member that must be a string when present.
Result<QString> stringMember(const Json &json, const char *key, const QString &where)
{
    const auto it = json.find(key);
    if (it == json.end() || it->is_null())
        return QString();
    if (!it->is_string())
        return invalid(QStringLiteral("%1.%2 must be a string").arg(where, QLatin1String(key)));
    return fromStd(it->get<std::string>());
}

/// RFC 8252 §7.3: a native client's redirect is http on a loopback IP; we receive on 127.0.0.1.
bool isLoopbackRedirect(const QUrl &url)
{
    return url.isValid() && url.scheme() == QLatin1String("http") && isLoopbackHost(url.host()) &&
           url.fragment().isEmpty() && url.userInfo().isEmpty();
}

/// `stored`: read back from the state file, where the secret is absent (it is in the keychain).
Result<ClientRegistration> parseClientInfo(const Json &info, bool stored,
                                           std::optional<ClientRegistration::AuthMethod> *method)
{
    ClientRegistration c;
    c.source = ClientRegistration::Source::PreRegistered;
    const QString where = QStringLiteral("params.clientInfo");
    Result<QString> id = stringMember(info, "client_id", where);
    Result<QString> secret = stringMember(info, "client_secret", where);
    Result<QString> methodName = stringMember(info, "token_endpoint_auth_method", where);
    for (const auto *r : {&id, &secret, &methodName})
        if (!*r)
            return r->error();
    if (id->isEmpty())
        return invalid(where + QStringLiteral(".client_id is required"));
    c.clientId = *id;
    c.clientSecret = *secret;
    if (!methodName->isEmpty()) {
        *method = ClientRegistration::authMethodFromName(*methodName);
        if (!*method)
            return invalid(where + QStringLiteral(".token_endpoint_auth_method must be none, "
                                                  "client_secret_basic or client_secret_post"));
        if (**method != ClientRegistration::AuthMethod::None && c.clientSecret.isEmpty() && !stored)
            return invalid(where + QStringLiteral(".client_secret is required for ") + *methodName);
        c.authMethod = **method;
    }
    if (info.contains("redirect_uris")) {
        const std::optional<QStringList> uris = jsonStringList(info, "redirect_uris");
        if (!uris || uris->size() != qsizetype(info["redirect_uris"].size()))
            return invalid(where + QStringLiteral(".redirect_uris must be an array of strings"));
        if (!uris->isEmpty()) {
            const QUrl first(uris->constFirst(), QUrl::StrictMode);
            if (!isLoopbackRedirect(first))
                return invalid(where + QStringLiteral(".redirect_uris[0] must be an http loopback URL "
                                                      "(the agent receives the sign-in on 127.0.0.1)"));
            c.redirectUri = uris->constFirst();
        }
    }
    return c;
}

Result<ServerConfig> parseConfig(const Json &params, bool stored);

} // namespace

bool ServerConfig::isEmpty() const
{
    return !staticClient && clientMetadata.empty() && clientMetadataUrl.isEmpty() &&
           authorizeParams.isEmpty() && resourceOverride.isEmpty();
}

Result<ServerConfig> ServerConfig::fromParams(const Json &params)
{
    return parseConfig(params, false);
}

Result<ServerConfig> ServerConfig::fromJson(const Json &json)
{
    // The stored shape is the params shape without the secret: one parser, one set of rules.
    return parseConfig(json, true);
}

namespace {

Result<ServerConfig> parseConfig(const Json &params, bool stored)
{
    if (!params.is_object())
        return invalid(QStringLiteral("params must be an object"));
    ServerConfig c;

    Result<Json> info = objectMember(params, "clientInfo");
    if (!info)
        return info.error();
    if (!info->empty()) {
        Result<ClientRegistration> client = parseClientInfo(*info, stored, &c.staticAuthMethod);
        if (!client)
            return client.error();
        c.staticClient = *client;
    }

    Result<Json> metadata = objectMember(params, "clientMetadata");
    if (!metadata)
        return metadata.error();
    // Unknown or reserved members are dropped, not refused: mcp-remote users pass whole client
    // metadata documents, and only the descriptive fields are ours to take from them.
    for (const QString &key : DynamicRegistration::extraMetadataKeys()) {
        const auto it = metadata->find(toStd(key));
        if (it == metadata->end() || it->is_null())
            continue;
        const bool isList = key == QLatin1String("contacts");
        if (isList ? !it->is_array() : !it->is_string())
            return invalid(QStringLiteral("params.clientMetadata.%1 must be %2")
                               .arg(key, isList ? QStringLiteral("an array") : QStringLiteral("a string")));
        c.clientMetadata[toStd(key)] = *it;
    }

    Result<QString> cimd = stringMember(params, "clientMetadataUrl", QStringLiteral("params"));
    if (!cimd)
        return cimd.error();
    if (!cimd->isEmpty()) {
        // MCP 2025-11-25 "Client ID Metadata Documents": an https URL with a path.
        const QUrl url(*cimd, QUrl::StrictMode);
        if (!url.isValid() || url.scheme() != QLatin1String("https") || url.host().isEmpty() ||
            url.path().isEmpty() || url.path() == QLatin1String("/") || !url.fragment().isEmpty())
            return invalid(QStringLiteral("params.clientMetadataUrl must be an https URL with a path"));
        c.clientMetadataUrl = url;
    }

    Result<Json> extra = objectMember(params, "authorizeParams");
    if (!extra)
        return extra.error();
    for (auto it = extra->begin(); it != extra->end(); ++it) {
        if (!it->is_string())
            return invalid(QStringLiteral("params.authorizeParams values must be strings"));
        c.authorizeParams.append({fromStd(it.key()), fromStd(it->get<std::string>())});
    }

    Result<QString> resource = stringMember(params, "resourceOverride", QStringLiteral("params"));
    if (!resource)
        return resource.error();
    if (!resource->isEmpty()) {
        // RFC 8707 §2: an absolute URI without a fragment.
        const QUrl url(*resource, QUrl::StrictMode);
        if (!url.isValid() || url.isRelative() || url.host().isEmpty() || url.hasFragment())
            return invalid(
                QStringLiteral("params.resourceOverride must be an absolute URL without a fragment"));
        c.resourceOverride = *resource;
    }

    // `allowHttp` (older proxies send it) is checked and then has no effect: the agent sends
    // nothing over plain HTTP except to loopback hosts, whatever a client asks (security.md §7).
    // Tokens, codes and client secrets travel on these connections.
    if (params.contains("allowHttp") && !params["allowHttp"].is_null() && !params["allowHttp"].is_boolean())
        return invalid(QStringLiteral("params.allowHttp must be a boolean"));
    return c;
}

} // namespace

Json ServerConfig::toJson() const
{
    Json j = Json::object();
    if (staticClient) {
        Json info = Json::object();
        info["client_id"] = toStd(staticClient->clientId);
        if (staticAuthMethod)
            info["token_endpoint_auth_method"] = toStd(ClientRegistration::authMethodName(*staticAuthMethod));
        if (!staticClient->redirectUri.isEmpty())
            info["redirect_uris"] = Json::array({toStd(staticClient->redirectUri)});
        j["clientInfo"] = info;
        j["hasSecret"] = !staticClient->clientSecret.isEmpty();
    }
    if (!clientMetadata.empty())
        j["clientMetadata"] = clientMetadata;
    if (!clientMetadataUrl.isEmpty())
        j["clientMetadataUrl"] = toStd(clientMetadataUrl.toString(QUrl::FullyEncoded));
    if (!authorizeParams.isEmpty()) {
        Json p = Json::object();
        for (const auto &[k, v] : authorizeParams)
            p[toStd(k)] = toStd(v);
        j["authorizeParams"] = p;
    }
    if (!resourceOverride.isEmpty())
        j["resourceOverride"] = toStd(resourceOverride);
    return j;
}

} // namespace mcpauth
