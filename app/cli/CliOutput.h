#pragma once

#include <QByteArray>
#include <QString>

#include <cstdio>

namespace mcpauth {

/// A line for the user on stdout (what the command answers).
inline void out(const QString &text)
{
    const QByteArray bytes = text.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

/// A diagnostic on stderr, prefixed "mcp-auth: ".
inline void err(const QString &text)
{
    const QByteArray bytes = QByteArrayLiteral("mcp-auth: ") + text.toUtf8() + '\n';
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
}

} // namespace mcpauth
