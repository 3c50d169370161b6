#pragma once

#include "common/Json.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <optional>

namespace mcpauth {

/// The vocabulary of the stateless MCP wire of 2026-07-28 (basic/index.mdx §_meta,
/// transports/streamable-http.mdx §Request Metadata, basic/versioning.mdx): which versions are
/// modern, the per-request `_meta` keys, the standard headers derived from a request body and
/// their value encoding, and which JSON-RPC errors only a modern server sends. Pure functions,
/// shared by the stateless transport, the era probe and the bridge.
class ModernWire
{
public:
    using Headers = QList<QPair<QByteArray, QByteArray>>;

    /// The modern revision the proxy implements (and the only one so far).
    static const QString version;
    /// Legacy revisions a 2025 host may name in initialize, newest first.
    static const QStringList legacyVersions;

    static constexpr const char *versionKey = "io.modelcontextprotocol/protocolVersion";
    static constexpr const char *capabilitiesKey = "io.modelcontextprotocol/clientCapabilities";
    static constexpr const char *clientInfoKey = "io.modelcontextprotocol/clientInfo";
    static constexpr const char *logLevelKey = "io.modelcontextprotocol/logLevel";
    static constexpr const char *serverInfoKey = "io.modelcontextprotocol/serverInfo";
    static constexpr const char *subscriptionIdKey = "io.modelcontextprotocol/subscriptionId";

    // JSON-RPC error codes new in 2026-07-28 (basic/index.mdx §Error Codes).
    static constexpr int headerMismatch = -32020;
    static constexpr int missingClientCapability = -32021;
    static constexpr int unsupportedVersion = -32022;

    /// True for a revision of 2026-07-28 or later (revisions are dates, so they sort as text).
    static bool isModern(const QString &revision);
    /// True for a modern revision the proxy implements.
    static bool isImplemented(const QString &revision);
    /// `params._meta["io.modelcontextprotocol/protocolVersion"]` of a request, or empty.
    static QString requestVersion(const Json &message);

    /// The body of a modern request: `params._meta` gets the protocol version, the client's
    /// capabilities (an empty object when none), its clientInfo (when known) and the log level
    /// (when set); keys the caller already put in `_meta` (progressToken...) are kept.
    static Json stamp(Json request, const Json &capabilities, const Json &clientInfo,
                      const QString &logLevel);

    /// MCP-Protocol-Version, Mcp-Method and, for tools/call and prompts/get (params.name) or
    /// resources/read (params.uri), Mcp-Name: derived from the body, values encoded.
    static Headers standardHeaders(const Json &request);
    /// A header value as §Value Encoding wants it: as is when plain visible ASCII, else
    /// `=?base64?<base64 of the UTF-8>?=` (non-ASCII, control characters, leading or trailing
    /// whitespace, a value that looks like the sentinel itself, and the empty string).
    static QByteArray encodeHeaderValue(const QString &value);

    /// True for the errors only a modern server sends: -32020, -32021, -32022.
    static bool isModernError(const Json &error);
    /// For a -32022 error: whether `data.supported` lists a version we implement (the version),
    /// only legacy ones (std::nullopt + legacyOnly), or nothing usable.
    struct Supported
    {
        std::optional<QString> mutual; ///< a listed modern version the proxy implements
        bool legacyOnly = false;       ///< every listed version is a 2025-or-older one
        bool valid = false;            ///< data.supported is a non-empty array of strings
    };
    static Supported supported(const Json &error);
    /// The error object a server sends when the request's version is not one it implements.
    static Json unsupportedVersionError(const QString &requested, const QStringList &supported);
};

} // namespace mcpauth
