#pragma once

#include "common/Json.h"

#include <QByteArray>
#include <QString>

namespace mcpauth {

/// The one way the agent and the proxy tell JSON-RPC 2.0 messages apart (§4-§5 of the JSON-RPC spec): a
/// request has a method and a non-null id, a notification a method and no id, a response an id
/// and a result or an error.
class JsonRpc
{
public:
    static bool isRequest(const Json &m)
    {
        return m.is_object() && m.contains("method") && m.contains("id") && !m["id"].is_null();
    }
    static bool isNotification(const Json &m)
    {
        return m.is_object() && m.contains("method") && !m.contains("id");
    }
    static bool isResponse(const Json &m)
    {
        return m.is_object() && !m.contains("method") && m.contains("id") &&
               (m.contains("result") || m.contains("error"));
    }
    static QString method(const Json &m) { return jsonString(m, "method"); }
    /// What a message is matched by: requests and responses by their id, anything else by its
    /// whole text ("id:..." / "msg:...").
    static QByteArray key(const Json &m)
    {
        if (isRequest(m) || isResponse(m))
            return QByteArrayLiteral("id:") + toBytes(m["id"]);
        return QByteArrayLiteral("msg:") + toBytes(m);
    }
    /// The message's id when it is a string (every id the proxy mints is), else empty.
    static QString stringId(const Json &m)
    {
        return m.is_object() && m.contains("id") && m["id"].is_string() ? fromStd(m["id"].get<std::string>())
                                                                        : QString();
    }
    /// The request's params, or an empty object.
    static Json params(const Json &m)
    {
        return m.is_object() && m.contains("params") && m["params"].is_object() ? m["params"]
                                                                                : Json::object();
    }
    /// A response carrying `error` for request `id`.
    static Json errorResponse(const Json &id, int code, const QString &message, const Json &data = nullptr)
    {
        Json error{{"code", code}, {"message", toStd(message)}};
        if (!data.is_null())
            error["data"] = data;
        return Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", error}};
    }
    static Json resultResponse(const Json &id, const Json &result)
    {
        return Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}};
    }
};

} // namespace mcpauth
