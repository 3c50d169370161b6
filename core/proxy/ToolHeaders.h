#pragma once

#include "common/Json.h"
#include "common/Result.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace mcpauth {

/// The `x-mcp-header` declarations of tool schemas (2026-07-28 transports/streamable-http.mdx
/// §Custom Headers from Tool Parameters): a tools/call argument a tool designates is mirrored into
/// an `Mcp-Param-{Name}` header so intermediaries can route on it. An HTTP client MUST support
/// this and MUST leave tools with an invalid declaration out of tools/list: filterToolsList()
/// does both, remembering the declarations of the tools it keeps; paramHeaders() builds the
/// headers of a tools/call from them.
class ToolHeaders
{
public:
    struct Param
    {
        QByteArray name;  ///< the header suffix, as declared
        QStringList path; ///< property names from the schema root to the argument
        QString type;     ///< "string", "integer" or "boolean"
    };
    /// Tools remembered at most (a hostile server cannot grow this without bound).
    static constexpr qsizetype maxTools = 4096;

    /// The declarations of one input schema, or why it is invalid (§Schema Extension): a value
    /// that is empty, not an RFC 9110 token, or a duplicate ignoring case; on a property that is
    /// not a string, integer or boolean; or reached through anything but `properties`.
    static Result<QList<Param>> declarations(const Json &inputSchema);

    /// A tools/list result with the tools whose declarations are invalid removed (each logged);
    /// the declarations of the tools kept are remembered for paramHeaders().
    Json filterToolsList(const Json &result);
    /// `Mcp-Param-*` headers for a tools/call's params, from the tool's remembered declarations.
    /// Absent and null arguments get no header; values are encoded as ModernWire wants.
    QList<QPair<QByteArray, QByteArray>> paramHeaders(const Json &callParams) const;
    /// Whether tools/list has described `tool` (its declarations are known, maybe none).
    bool knows(const QString &tool) const { return m_tools.contains(tool); }

private:
    QHash<QString, QList<Param>> m_tools;
};

} // namespace mcpauth
