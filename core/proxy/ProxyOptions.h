#pragma once

#include "common/Json.h"
#include "common/Result.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <functional>
#include <optional>

namespace mcpauth {

/// The arguments of `mcp-auth proxy URL [options]`, compatible with mcp-remote 0.15.1 so that a
/// host's config keeps working when only the command changes. Callback-related options
/// (positional port, --host, --callback-path, --auth-success-url) are accepted and ignored: the
/// agent owns the callback. Network tuning options mcp-remote has and Qt does not need are
/// accepted with a warning; flows we do not offer (device code, client credentials) are refused.
struct ProxyOptions
{
    /// mcp-remote's --transport strategies.
    enum class TransportMode { HttpFirst, SseFirst, HttpOnly, SseOnly };
    /// --protocol: which MCP era to speak to the server. Auto probes with server/discover
    /// (2026-07-28 first, 2025-11-25 when the server is legacy); Legacy never probes (today's
    /// servers, 2025-11-25 only); Modern speaks 2026-07-28 only.
    enum class ProtocolMode { Auto, Legacy, Modern };

    using EnvLookup = std::function<std::optional<QString>(const QString &name)>;

    QUrl serverUrl;
    std::optional<int> callbackPort; ///< accepted for compatibility, never used
    QList<QPair<QByteArray, QByteArray>> headers;
    TransportMode transport = TransportMode::HttpFirst;
    ProtocolMode protocol = ProtocolMode::Auto;
    Json clientInfo;     ///< --static-oauth-client-info (object) or null
    Json clientMetadata; ///< --static-oauth-client-metadata (object) or null
    QString clientMetadataUrl;
    QString resourceOverride;
    bool allowHttp = false;
    Json authorizeParams = Json::object(); ///< --authorize-param k=v, in a JSON object
    QStringList ignoredTools;              ///< --ignore-tool globs (`*` wildcard, case-insensitive)
    int authTimeoutSeconds = 0;            ///< --auth-timeout; 0 = the agent's own limit
    bool debug = false;
    bool silent = false;
    bool enableProxy = false; ///< --enable-proxy: use the system's HTTP(S) proxy settings
    bool help = false;
    /// Things the user should know (ignored options, unset variables); printed unless --silent.
    QStringList warnings;

    /// Parses the arguments after `proxy`. Error::config("usage", …) for anything a user must
    /// fix: no URL, a malformed value, http:// to a non-loopback host without --allow-http.
    static Result<ProxyOptions> parse(const QStringList &args, const EnvLookup &env);
    /// The process environment, for parse().
    static EnvLookup processEnvironment();

    /// True when any option the agent keeps per server was given (see serverConfigureParams()).
    bool hasServerConfig() const;
    /// Params of the agent's `server/configure` for these options.
    Json serverConfigureParams() const;
    /// Whether `toolName` matches one of the --ignore-tool globs.
    bool isToolIgnored(const QString &toolName) const;
};

} // namespace mcpauth
