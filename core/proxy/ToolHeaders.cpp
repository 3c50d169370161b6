#include "proxy/ToolHeaders.h"

#include "common/Log.h"
#include "proxy/ModernWire.h"

#include <QSet>

#include <cmath>

namespace mcpauth {

namespace {

constexpr const char *kDeclaration = "x-mcp-header";
constexpr qint64 kMaxSafeInteger = 9007199254740991; // JavaScript's Number.MAX_SAFE_INTEGER

// RFC 9110 §5.6.2 token characters.
bool isToken(const QString &value)
{
    if (value.isEmpty())
        return false;
    static const QString extra = QStringLiteral("!#$%&'*+-.^_`|~");
    for (const QChar c : value) {
        const ushort u = c.unicode();
        const bool alnum = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9');
        if (!alnum && !extra.contains(c))
            return false;
    }
    return true;
}

// JSON Schema keywords whose values are subschemas (directly, in an array, or in a map): a
// declaration below any of them is not reachable through `properties` alone.
const QSet<QString> &schemaKeywords()
{
    static const QSet<QString> words = {QStringLiteral("items"),
                                        QStringLiteral("prefixItems"),
                                        QStringLiteral("additionalProperties"),
                                        QStringLiteral("oneOf"),
                                        QStringLiteral("anyOf"),
                                        QStringLiteral("allOf"),
                                        QStringLiteral("not"),
                                        QStringLiteral("if"),
                                        QStringLiteral("then"),
                                        QStringLiteral("else"),
                                        QStringLiteral("contains"),
                                        QStringLiteral("patternProperties"),
                                        QStringLiteral("$defs"),
                                        QStringLiteral("definitions"),
                                        QStringLiteral("dependentSchemas"),
                                        QStringLiteral("propertyNames"),
                                        QStringLiteral("unevaluatedItems"),
                                        QStringLiteral("unevaluatedProperties")};
    return words;
}

struct Walk
{
    QList<ToolHeaders::Param> found;
    QSet<QString> seen; // lower-cased names
    QString problem;

    // `viaProperties`: the node is reached from the root through `properties` only.
    void node(const Json &schema, const QStringList &path, bool viaProperties, int depth)
    {
        if (!problem.isEmpty() || !schema.is_object() || depth > kMaxMcpJsonDepth)
            return;
        if (schema.contains(kDeclaration))
            declare(schema, path, viaProperties);
        for (auto it = schema.begin(); it != schema.end() && problem.isEmpty(); ++it) {
            const QString key = fromStd(it.key());
            if (key == QLatin1String("properties") && it->is_object()) {
                for (auto p = it->begin(); p != it->end(); ++p)
                    node(*p, path + QStringList{fromStd(p.key())}, viaProperties, depth + 1);
            } else if (schemaKeywords().contains(key)) {
                // A subschema, an array of them, or a map of them.
                if (it->is_array()) {
                    for (const Json &sub : *it)
                        node(sub, path, false, depth + 1);
                } else if (it->is_object() &&
                           (key == QLatin1String("patternProperties") || key == QLatin1String("$defs") ||
                            key == QLatin1String("definitions") ||
                            key == QLatin1String("dependentSchemas"))) {
                    for (auto p = it->begin(); p != it->end(); ++p)
                        node(*p, path, false, depth + 1);
                } else {
                    node(*it, path, false, depth + 1);
                }
            }
        }
    }

    void declare(const Json &schema, const QStringList &path, bool viaProperties)
    {
        const Json &value = schema[kDeclaration];
        const QString name = value.is_string() ? fromStd(value.get<std::string>()) : QString();
        if (!viaProperties || path.isEmpty()) {
            problem =
                QStringLiteral("x-mcp-header is only allowed on properties reached through `properties`");
            return;
        }
        if (!isToken(name)) {
            problem = QStringLiteral("x-mcp-header \"%1\" is not a valid header name").arg(name.left(64));
            return;
        }
        if (seen.contains(name.toLower())) {
            problem = QStringLiteral("x-mcp-header \"%1\" is declared twice").arg(name);
            return;
        }
        const QString type = jsonString(schema, "type");
        if (type != QLatin1String("string") && type != QLatin1String("integer") &&
            type != QLatin1String("boolean")) {
            problem = QStringLiteral(
                          "x-mcp-header \"%1\" is on a property that is not a string, integer or boolean")
                          .arg(name);
            return;
        }
        seen.insert(name.toLower());
        found.append({name.toLatin1(), path, type});
    }
};

// The argument at `path`, or null when absent.
Json argumentAt(const Json &arguments, const QStringList &path)
{
    const Json *at = &arguments;
    for (const QString &key : path) {
        if (!at->is_object() || !at->contains(toStd(key)))
            return nullptr;
        at = &(*at)[toStd(key)];
    }
    return *at;
}

// §Value Encoding, type conversion. Empty when the value cannot be mirrored.
std::optional<QString> headerText(const Json &value, const QString &type)
{
    if (value.is_string())
        return fromStd(value.get<std::string>());
    if (value.is_boolean())
        return value.get<bool>() ? QStringLiteral("true") : QStringLiteral("false");
    if (value.is_number_integer()) {
        if (value.is_number_unsigned())
            return QString::number(value.get<quint64>());
        return QString::number(value.get<qint64>());
    }
    if (value.is_number_float() && type == QLatin1String("integer")) {
        const double d = value.get<double>();
        if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= double(kMaxSafeInteger))
            return QString::number(qint64(d));
    }
    return std::nullopt;
}

} // namespace

Result<QList<ToolHeaders::Param>> ToolHeaders::declarations(const Json &inputSchema)
{
    Walk walk;
    walk.node(inputSchema, {}, true, 0);
    if (!walk.problem.isEmpty())
        return Error::protocol(QStringLiteral("invalid_tool_headers"), walk.problem);
    return walk.found;
}

Json ToolHeaders::filterToolsList(const Json &result)
{
    if (!result.is_object() || !result.contains("tools") || !result["tools"].is_array())
        return result;
    Json out = result;
    Json kept = Json::array();
    for (const Json &tool : result["tools"]) {
        const QString name = jsonString(tool, "name");
        const Result<QList<Param>> params =
            declarations(tool.is_object() ? tool.value("inputSchema", Json::object()) : Json());
        if (!params) {
            // §Schema Extension: the client MUST exclude it and SHOULD log a warning.
            qCWarning(lcProxy).noquote() << QStringLiteral("tool \"%1\" left out of tools/list: %2")
                                                .arg(name.left(128), params.error().message);
            continue;
        }
        if (m_tools.size() >= maxTools && !m_tools.contains(name))
            m_tools.clear();
        m_tools.insert(name, *params);
        kept.push_back(tool);
    }
    out["tools"] = kept;
    return out;
}

QList<QPair<QByteArray, QByteArray>> ToolHeaders::paramHeaders(const Json &callParams) const
{
    QList<QPair<QByteArray, QByteArray>> out;
    const auto it = m_tools.constFind(jsonString(callParams, "name"));
    if (it == m_tools.constEnd())
        return out;
    const Json arguments =
        callParams.is_object() ? callParams.value("arguments", Json::object()) : Json::object();
    for (const Param &p : *it) {
        const Json value = argumentAt(arguments, p.path);
        if (value.is_null())
            continue;
        if (const std::optional<QString> text = headerText(value, p.type))
            out.append({QByteArrayLiteral("Mcp-Param-") + p.name, ModernWire::encodeHeaderValue(*text)});
    }
    return out;
}

} // namespace mcpauth
