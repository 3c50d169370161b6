#pragma once

#include "proxy/McpTransport.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QUrl>

class QNetworkAccessManager;

namespace mcpauth {

/// The MCP HTTP transports `mcp-auth proxy` can speak.
enum class TransportKind {
    Stateless,      ///< the stateless Streamable HTTP wire of 2026-07-28
    StreamableHttp, ///< 2025-03-26 to 2025-11-25, with sessions
    LegacySse,      ///< HTTP+SSE of 2024-11-05
};

/// Builds the transport of `kind` for `endpoint`, sending `extraHeaders` (the user's --header
/// options) with every request. The one place the proxy's composition root names the classes.
McpTransport *createTransport(TransportKind kind, QNetworkAccessManager *nam, const QUrl &endpoint,
                              const QList<QPair<QByteArray, QByteArray>> &extraHeaders,
                              QObject *parent = nullptr);

} // namespace mcpauth
