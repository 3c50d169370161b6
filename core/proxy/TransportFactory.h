#pragma once

#include "proxy/McpTransport.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QUrl>

class QNetworkAccessManager;

namespace mcpauth {

/// The two MCP HTTP transports `mcp-auth proxy` can speak.
enum class TransportKind {
    StreamableHttp, ///< 2025-03-26 and later
    LegacySse,      ///< HTTP+SSE of 2024-11-05
};

/// Builds the transport of `kind` for `endpoint`, sending `extraHeaders` (the user's --header
/// options) with every request. The one place the proxy's composition root names the classes.
McpTransport *createTransport(TransportKind kind, QNetworkAccessManager *nam, const QUrl &endpoint,
                              const QList<QPair<QByteArray, QByteArray>> &extraHeaders,
                              QObject *parent = nullptr);

} // namespace mcpauth
