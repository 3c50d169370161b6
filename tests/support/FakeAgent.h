#pragma once

#include "SameUserIdentity.h"
#include "broker/BrokerServer.h"
#include "broker/RpcErrors.h"
#include "common/Json.h"

#include <QList>
#include <QTimer>

#include <optional>
#include <unistd.h>

namespace mcpauth::test {

/// A stand-in for mcp-auth-agent on a real local socket (BrokerServer + JsonRpcConnection), so the
/// code under test talks to it through a real AgentClient. It mimics the agent's rules with
/// fields a test sets: token/get answers the current token or -32001 login_required; login/start
/// signs in (new token "tok-N", scope from the params or the challenge) after loginDelayMs, or
/// fails with loginError; server/configure is recorded. Every call is kept in `calls`.
class FakeAgent
{
public:
    struct Call
    {
        QString method;
        Json params;
    };

    FakeAgent() : server(identity)
    {
        QObject::connect(&server, &BrokerServer::connectionAccepted, &server, [this](JsonRpcConnection *c) {
            QObject::connect(c, &JsonRpcConnection::requestReceived, c,
                             [this, c](const Json &id, const QString &method, const Json &params) {
                                 handle(c, id, method, params);
                             });
        });
    }

    bool listen(const QString &path) { return server.listen(path).ok(); }

    QList<Call> callsOf(const QString &method) const
    {
        QList<Call> out;
        for (const Call &c : calls)
            if (c.method == method)
                out << c;
        return out;
    }

    bool signedIn = false;
    QString token;
    QString scope;
    qint64 expiresAt = 0; ///< what token/get reports (0 = unknown)
    int logins = 0;
    int loginDelayMs = 0;
    std::optional<Error> loginError;
    std::optional<Error> configureError;
    QList<Call> calls;

private:
    void sendError(JsonRpcConnection *c, const Json &id, const Error &e)
    {
        c->sendError(id, rpcCodeFor(e), e.message, rpcErrorData(e));
    }

    void handle(JsonRpcConnection *c, const Json &id, const QString &method, const Json &params)
    {
        calls.append({method, params});
        if (method == QLatin1String("server/configure")) {
            if (configureError)
                return sendError(c, id, *configureError);
            return c->sendResult(id, Json::object());
        }
        if (method == QLatin1String("token/get")) {
            if (!signedIn)
                return sendError(c, id, Error::loginRequired(QStringLiteral("sign in first")));
            return c->sendResult(id, Json{{"accessToken", toStd(token)},
                                          {"tokenType", "Bearer"},
                                          {"expiresAt", expiresAt},
                                          {"scope", toStd(scope)}});
        }
        if (method == QLatin1String("login/start")) {
            QTimer::singleShot(loginDelayMs, c, [this, c, id, params] {
                if (loginError)
                    return sendError(c, id, *loginError);
                signedIn = true;
                token = QStringLiteral("tok-%1").arg(++logins);
                scope = jsonString(params, "scope");
                if (scope.isEmpty())
                    scope = jsonString(params.value("challenge", Json::object()), "scope");
                c->sendResult(id, Json{{"tokenType", "Bearer"}, {"expiresAt", 0}, {"scope", toStd(scope)}});
            });
            return;
        }
        c->sendError(id, RpcError::MethodNotFound, QStringLiteral("unknown method"));
    }

public:
    SameUserIdentity identity; ///< who the agent sees on its socket, and who its clients see
    BrokerServer server;
};

} // namespace mcpauth::test
