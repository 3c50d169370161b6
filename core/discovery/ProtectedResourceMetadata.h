#pragma once

#include "common/Json.h"
#include "common/Result.h"

#include <QStringList>
#include <QUrl>

#include <optional>

namespace mcpauth {

/// RFC 9728 Protected Resource Metadata of an MCP server: which authorization servers protect it
/// and which scopes it knows. Parsed from the server's well-known document; cached in the state file.
struct ProtectedResourceMetadata
{
    QString resource;                 ///< as published (compared to the MCP URL, RFC 9728 §3.3)
    QStringList authorizationServers; ///< issuer URLs; at least one
    std::optional<QStringList>
        scopesSupported; ///< nullopt when absent (scope selection needs the difference)
    QStringList bearerMethodsSupported;
    QString resourceName;

    /// Parses and validates the document: JSON object, `resource` a valid absolute URL,
    /// `authorization_servers` a non-empty array of valid URLs. Does not compare `resource` to anything.
    static Result<ProtectedResourceMetadata> parse(const QByteArray &body);
    Json toJson() const;
    static Result<ProtectedResourceMetadata> fromJson(const Json &json);
};

} // namespace mcpauth
