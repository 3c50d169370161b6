#pragma once

#include "common/Result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>
#include <optional>

namespace mcpauth {

using Json = nlohmann::json;

/// Parse a JSON object from bytes. Never throws: a parse error, a non-object document or
/// invalid UTF-8 becomes Error::protocol("invalid_json", "<what>: <reason>").
Result<Json> parseJsonObject(const QByteArray &bytes, const QString &what);

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
