#pragma once

#include <QUrl>

namespace mcpauth {

/// True for loopback hosts: 127.0.0.0/8, ::1 and "localhost".
bool isLoopbackHost(const QString &host);

/// Design.md: HTTPS is required for every authorization-server endpoint except loopback hosts.
/// True for https:// URLs, and for http:// URLs whose host is loopback.
bool isSecureEndpoint(const QUrl &url);

} // namespace mcpauth
