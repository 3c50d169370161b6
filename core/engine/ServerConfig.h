#pragma once

#include "common/Json.h"
#include "common/Result.h"
#include "registration/ClientRegistration.h"

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace mcpauth {

/// What a user or host configured for one MCP server (`server/configure`, the mcp-remote compatible
/// options of `mcp-auth proxy`): a static client, extra DCR metadata, a Client ID Metadata Document
/// URL, extra authorization parameters, a `resource` override and permission for plain HTTP.
/// Kept per canonical resource in the state file; the static client's secret lives only in the
/// keychain (toJson() leaves it out).
struct ServerConfig
{
    /// A pre-registered client (`clientInfo`). Its issuer is empty: it is used with whatever
    /// authorization server discovery finds for this resource.
    std::optional<ClientRegistration> staticClient;
    /// The auth method named in `clientInfo.token_endpoint_auth_method`; nullopt = derive it from
    /// the secret and the server's metadata (TokenClient::chooseAuthMethod).
    std::optional<ClientRegistration::AuthMethod> staticAuthMethod;
    /// Extra RFC 7591 fields for the DCR body (DynamicRegistration::extraMetadataKeys() only).
    Json clientMetadata = Json::object();
    /// CIMD client_id (https with a path); used only where the server advertises CIMD support.
    QUrl clientMetadataUrl;
    /// Extra authorization request parameters (never the security ones: AuthorizationRequest drops those).
    QList<QPair<QString, QString>> authorizeParams;
    /// Sent as `resource` instead of the canonical MCP URL (absolute, no fragment).
    QString resourceOverride;

    bool isEmpty() const;

    /// Parses and validates `server/configure` params (the socket protocol shape). Errors are Config
    /// errors whose message names the offending member (for -32602).
    static Result<ServerConfig> fromParams(const Json &params);
    /// For the state file: without the client secret; `hasSecret` says whether one is in the keychain.
    Json toJson() const;
    static Result<ServerConfig> fromJson(const Json &json);
};

} // namespace mcpauth
