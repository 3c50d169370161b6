#include "proxy/ModernWire.h"

#include <QRegularExpression>

namespace mcpauth {

const QString ModernWire::version = QStringLiteral("2026-07-28");
const QStringList ModernWire::legacyVersions = {QStringLiteral("2025-11-25"), QStringLiteral("2025-06-18"),
                                                QStringLiteral("2025-03-26"), QStringLiteral("2024-11-05")};

bool ModernWire::isModern(const QString &revision)
{
    static const QRegularExpression date(QStringLiteral("^\\d{4}-\\d{2}-\\d{2}$"));
    return date.match(revision).hasMatch() && revision >= version;
}

bool ModernWire::isImplemented(const QString &revision)
{
    return revision == version;
}

QString ModernWire::requestVersion(const Json &message)
{
    if (!message.is_object() || !message.contains("params") || !message["params"].is_object())
        return {};
    const Json &params = message["params"];
    if (!params.contains("_meta") || !params["_meta"].is_object())
        return {};
    return jsonString(params["_meta"], versionKey);
}

Json ModernWire::stamp(Json request, const Json &capabilities, const Json &clientInfo,
                       const QString &logLevel)
{
    if (!request.contains("params") || !request["params"].is_object())
        request["params"] = Json::object();
    Json &params = request["params"];
    if (!params.contains("_meta") || !params["_meta"].is_object())
        params["_meta"] = Json::object();
    Json &meta = params["_meta"];
    meta[versionKey] = toStd(version);
    meta[capabilitiesKey] = capabilities.is_object() ? capabilities : Json::object();
    if (clientInfo.is_object())
        meta[clientInfoKey] = clientInfo;
    if (!logLevel.isEmpty())
        meta[logLevelKey] = toStd(logLevel);
    return request;
}

ModernWire::Headers ModernWire::standardHeaders(const Json &request)
{
    Headers out;
    const QString method = jsonString(request, "method");
    // §Protocol Version Header: equal to the body's _meta value, on every POST.
    if (const QString revision = requestVersion(request); !revision.isEmpty())
        out.append({QByteArrayLiteral("MCP-Protocol-Version"), encodeHeaderValue(revision)});
    out.append({QByteArrayLiteral("Mcp-Method"), encodeHeaderValue(method)});
    const Json params = request.value("params", Json::object());
    const char *nameKey = nullptr;
    if (method == QLatin1String("tools/call") || method == QLatin1String("prompts/get"))
        nameKey = "name";
    else if (method == QLatin1String("resources/read"))
        nameKey = "uri";
    if (nameKey && params.is_object() && params.contains(nameKey) && params[nameKey].is_string())
        out.append({QByteArrayLiteral("Mcp-Name"), encodeHeaderValue(jsonString(params, nameKey))});
    return out;
}

QByteArray ModernWire::encodeHeaderValue(const QString &value)
{
    static const QRegularExpression sentinel(QStringLiteral("^=\\?base64\\?.*\\?=$"),
                                             QRegularExpression::CaseInsensitiveOption);
    bool plain = !value.isEmpty() && !value.front().isSpace() && !value.back().isSpace() &&
                 !sentinel.match(value).hasMatch();
    for (const QChar c : value)
        plain = plain && c.unicode() >= 0x20 && c.unicode() <= 0x7e;
    if (plain)
        return value.toLatin1();
    return QByteArrayLiteral("=?base64?") + value.toUtf8().toBase64() + QByteArrayLiteral("?=");
}

bool ModernWire::isModernError(const Json &error)
{
    const std::optional<qint64> code = jsonInt(error, "code");
    return code &&
           (*code == headerMismatch || *code == missingClientCapability || *code == unsupportedVersion);
}

ModernWire::Supported ModernWire::supported(const Json &error)
{
    Supported out;
    if (!error.is_object() || !error.contains("data") || !error["data"].is_object())
        return out;
    const std::optional<QStringList> listed = jsonStringList(error["data"], "supported");
    if (!listed || listed->isEmpty())
        return out;
    out.valid = true;
    out.legacyOnly = true;
    for (const QString &v : *listed) {
        if (isModern(v))
            out.legacyOnly = false;
        if (isImplemented(v) && !out.mutual)
            out.mutual = v;
    }
    return out;
}

Json ModernWire::unsupportedVersionError(const QString &requested, const QStringList &supported)
{
    Json list = Json::array();
    for (const QString &v : supported)
        list.push_back(toStd(v));
    return Json{{"code", unsupportedVersion},
                {"message", toStd(QStringLiteral("Unsupported protocol version: %1").arg(requested))},
                {"data", {{"supported", list}, {"requested", toStd(requested)}}}};
}

} // namespace mcpauth
