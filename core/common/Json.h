#pragma once

#include "common/Result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>
#include <optional>

namespace mcpauth {

using Json = nlohmann::json;

/// How deeply arrays and objects may nest in JSON from outside (socket, servers, files). Copying
/// or printing a JSON value recurses once per level, so an unbounded depth is a stack overflow
/// waiting for a hostile peer; no document we read legitimately comes close to this.
constexpr int kMaxJsonDepth = 64;
/// MCP messages relayed by the proxy carry tool schemas and results: a more generous bound.
constexpr int kMaxMcpJsonDepth = 256;

/// Parse any JSON value from bytes. Never throws and never recurses: the nesting depth is checked
/// on the raw bytes before parsing, so a document nested deeper than `maxDepth` is refused
/// (Error::protocol("json_too_deep")) without building it. A parse error or invalid UTF-8 becomes
/// Error::protocol("invalid_json", "<what> is not valid JSON").
Result<Json> parseJson(const QByteArray &bytes, const QString &what, int maxDepth = kMaxJsonDepth);
/// parseJson() that also requires an object ("<what> is not a JSON object" otherwise).
Result<Json> parseJsonObject(const QByteArray &bytes, const QString &what, int maxDepth = kMaxJsonDepth);
/// The deepest nesting of arrays and objects in `bytes` read as JSON text (strings skipped), or
/// -1 as soon as it passes `limit`. Linear, iterative; does not validate the rest of the syntax.
int jsonNestingDepth(const QByteArray &bytes, int limit);

/// Typed, non-throwing accessors for JSON objects. A missing key or a value of the wrong type
/// gives the empty/nullopt result; callers decide whether that is an error.
QString jsonString(const Json &object, const char *key);
std::optional<qint64> jsonInt(const Json &object, const char *key);
std::optional<bool> jsonBool(const Json &object, const char *key);
/// A JSON array of strings; non-string entries are skipped. nullopt when the key is absent or not an array.
std::optional<QStringList> jsonStringList(const Json &object, const char *key);

inline std::string toStd(const QString &s)
{
    return s.toStdString();
}
inline QString fromStd(const std::string &s)
{
    return QString::fromStdString(s);
}
QByteArray toBytes(const Json &j);

} // namespace mcpauth
