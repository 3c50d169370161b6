#include "common/Json.h"

#include <algorithm>

namespace mcpauth {

int jsonNestingDepth(const QByteArray &bytes, int limit)
{
    int depth = 0;
    int deepest = 0;
    bool inString = false;
    const char *p = bytes.constData();
    const char *const end = p + bytes.size();
    for (; p < end; ++p) {
        const char c = *p;
        if (inString) {
            if (c == '\\')
                ++p; // the escaped character, whatever it is, cannot end the string
            else if (c == '"')
                inString = false;
            continue;
        }
        switch (c) {
        case '"':
            inString = true;
            break;
        case '[':
        case '{':
            if (++depth > limit)
                return -1;
            deepest = std::max(deepest, depth);
            break;
        case ']':
        case '}':
            --depth; // unbalanced input is the parser's to reject
            break;
        default:
            break;
        }
    }
    return deepest;
}

Result<Json> parseJson(const QByteArray &bytes, const QString &what, int maxDepth)
{
    // Depth first: nlohmann parses iteratively, but copying or dumping a value recurses per level.
    if (jsonNestingDepth(bytes, maxDepth) < 0)
        return Error::protocol(QStringLiteral("json_too_deep"),
                               what + QStringLiteral(" is nested deeper than %1 levels").arg(maxDepth));
    // allow_exceptions=false: a parse error yields a "discarded" value instead of throwing.
    Json doc = Json::parse(bytes.constBegin(), bytes.constEnd(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded())
        return Error::protocol(QStringLiteral("invalid_json"), what + QStringLiteral(" is not valid JSON"));
    return doc;
}

Result<Json> parseJsonObject(const QByteArray &bytes, const QString &what, int maxDepth)
{
    Result<Json> doc = parseJson(bytes, what, maxDepth);
    if (!doc)
        return doc;
    if (!doc->is_object())
        return Error::protocol(QStringLiteral("invalid_json"),
                               what + QStringLiteral(" is not a JSON object"));
    return doc;
}

QString jsonString(const Json &object, const char *key)
{
    if (!object.is_object())
        return {};
    const auto it = object.find(key);
    if (it == object.end() || !it->is_string())
        return {};
    return QString::fromStdString(it->get<std::string>());
}

std::optional<qint64> jsonInt(const Json &object, const char *key)
{
    if (!object.is_object())
        return std::nullopt;
    const auto it = object.find(key);
    if (it == object.end())
        return std::nullopt;
    if (it->is_number_integer())
        return it->get<qint64>();
    if (it->is_number_float())
        return static_cast<qint64>(it->get<double>());
    if (it->is_string()) { // some servers send "3600"
        bool ok = false;
        const qint64 v = QString::fromStdString(it->get<std::string>()).toLongLong(&ok);
        return ok ? std::optional<qint64>(v) : std::nullopt;
    }
    return std::nullopt;
}

std::optional<bool> jsonBool(const Json &object, const char *key)
{
    if (!object.is_object())
        return std::nullopt;
    const auto it = object.find(key);
    if (it == object.end() || !it->is_boolean())
        return std::nullopt;
    return it->get<bool>();
}

std::optional<QStringList> jsonStringList(const Json &object, const char *key)
{
    if (!object.is_object())
        return std::nullopt;
    const auto it = object.find(key);
    if (it == object.end() || !it->is_array())
        return std::nullopt;
    QStringList out;
    for (const auto &v : *it)
        if (v.is_string())
            out << QString::fromStdString(v.get<std::string>());
    return out;
}

QByteArray toBytes(const Json &j)
{
    // error_handler::replace: never throw on invalid UTF-8 in a string we did not produce.
    const std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
    return QByteArray(s.data(), qsizetype(s.size()));
}

} // namespace mcpauth
