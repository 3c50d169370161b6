#include "engine/AgentService.h"

#include "broker/BrokerServer.h"
#include "broker/JsonRpcConnection.h"
#include "broker/RpcErrors.h"
#include "common/Log.h"
#include "discovery/MetadataFields.h"
#include "engine/AuthEngine.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QTimer>

namespace mcpauth {

namespace {

/// The `resource` param as an absolute http(s) URL, or an invalid-params message.
std::optional<QUrl> resourceParam(const Json &params, QString *why)
{
    const QString text = jsonString(params, "resource");
    const QUrl url(text, QUrl::StrictMode);
    if (!isHttpUrl(url)) {
        *why = QStringLiteral("params.resource must be the MCP server's http(s) URL");
        return std::nullopt;
    }
    return url;
}

/// `login/start`'s optional `challenge` {resourceMetadata?, scope?, error?} and `force`.
std::optional<AuthEngine::LoginOptions> loginOptions(const Json &params, QString *why)
{
    AuthEngine::LoginOptions o;
    if (const auto it = params.find("force"); it != params.end() && !it->is_null()) {
        if (!it->is_boolean()) {
            *why = QStringLiteral("params.force must be a boolean");
            return std::nullopt;
        }
        o.force = it->get<bool>();
    }
    const auto it = params.find("challenge");
    if (it == params.end() || it->is_null())
        return o;
    if (!it->is_object()) {
        *why = QStringLiteral("params.challenge must be an object");
        return std::nullopt;
    }
    BearerChallenge c;
    c.present = true;
    for (const char *key : {"resourceMetadata", "scope", "error"}) {
        const auto m = it->find(key);
        if (m != it->end() && !m->is_null() && !m->is_string()) {
            *why = QStringLiteral("params.challenge.%1 must be a string").arg(QLatin1String(key));
            return std::nullopt;
        }
    }
    const QString rm = jsonString(*it, "resourceMetadata");
    if (!rm.isEmpty()) {
        // Only an absolute http(s) URL is followed (as the WWW-Authenticate parser would accept).
        const QUrl url(rm, QUrl::StrictMode);
        if (!isHttpUrl(url)) {
            *why = QStringLiteral("params.challenge.resourceMetadata must be an absolute http(s) URL");
            return std::nullopt;
        }
        c.resourceMetadata = url;
    }
    c.scope = jsonString(*it, "scope");
    c.error = jsonString(*it, "error");
    o.challenge = c;
    return o;
}

Json tokenResult(const TokenSet &t)
{
    Json r = Json::object();
    r["accessToken"] = toStd(t.accessToken);
    r["tokenType"] = toStd(t.tokenType);
    r["expiresAt"] = t.expiresAt;
    r["scope"] = toStd(t.scope);
    return r;
}

} // namespace

AgentService::AgentService(AuthEngine &engine, BrokerServer &server, QObject *parent)
    : QObject(parent), m_engine(engine)
{
    connect(&server, &BrokerServer::connectionAccepted, this, &AgentService::onConnection);
}

void AgentService::setKeychainStatus(bool available, const QString &detail)
{
    m_keychainAvailable = available;
    m_keychainDetail = detail;
}

void AgentService::onConnection(JsonRpcConnection *connection)
{
    connect(connection, &JsonRpcConnection::requestReceived, this,
            [this, connection](const Json &id, const QString &method, const Json &params) {
                dispatch(connection, id, method, params);
            });
}

void AgentService::dispatch(JsonRpcConnection *c, const Json &id, const QString &method, const Json &params)
{
    const QPointer<JsonRpcConnection> conn(c);
    auto fail = [conn, id](const Error &e) {
        if (conn)
            conn->sendError(id, rpcCodeFor(e), e.message, rpcErrorData(e));
    };
    auto invalidParams = [conn, id](const QString &why) {
        if (conn)
            conn->sendError(id, RpcError::InvalidParams, why);
    };
    const Json p = params.is_object() ? params : Json::object();

    if (method == QLatin1String("token/get") || method == QLatin1String("login/start")) {
        QString why;
        const std::optional<QUrl> url = resourceParam(p, &why);
        if (!url)
            return invalidParams(why);
        const QString scope = jsonString(p, "scope");
        const bool isLogin = method == QLatin1String("login/start");
        qCInfo(lcBroker) << method << url->toString() << "for" << c->peer().displayName();
        auto reply = [conn, id, fail, isLogin](Result<TokenSet> r) {
            if (!r)
                return fail(r.error());
            if (!conn)
                return;
            Json result = tokenResult(r.value());
            if (isLogin)
                result.erase("accessToken"); // login/start answers "signed in", not with a token
            conn->sendResult(id, result);
        };
        if (isLogin) {
            const std::optional<AuthEngine::LoginOptions> options = loginOptions(p, &why);
            if (!options)
                return invalidParams(why);
            m_engine.login(*url, scope, *options, c, reply);
        } else {
            const qint64 minValid =
                std::clamp<qint64>(jsonInt(p, "minValidSeconds").value_or(60), 0, 24 * 3600);
            m_engine.token(*url, scope, minValid, c, reply);
        }
        return;
    }
    if (method == QLatin1String("server/configure")) {
        QString why;
        const std::optional<QUrl> url = resourceParam(p, &why);
        if (!url)
            return invalidParams(why);
        const Result<ServerConfig> config = ServerConfig::fromParams(p);
        if (!config)
            return invalidParams(config.error().message);
        qCInfo(lcBroker) << "server/configure" << url->toString() << "for" << c->peer().displayName();
        m_engine.configure(*url, config.value(), c, [conn, id, fail](Status st) {
            if (!st)
                return fail(st.error());
            if (conn)
                conn->sendResult(id, Json::object());
        });
        return;
    }
    if (method == QLatin1String("logout")) {
        QString why;
        const std::optional<QUrl> url = resourceParam(p, &why);
        if (!url)
            return invalidParams(why);
        qCInfo(lcBroker) << "logout" << url->toString() << "for" << c->peer().displayName();
        m_engine.logout(*url, c, [conn, id, fail](Result<bool> r) {
            if (!r)
                return fail(r.error());
            if (conn)
                conn->sendResult(id, Json{{"revoked", r.value()}});
        });
        return;
    }
    if (method == QLatin1String("servers/list")) {
        Json list = Json::array();
        const QList<ServerStatus> servers = m_engine.servers();
        for (const ServerStatus &s : servers) {
            Json e = Json::object();
            e["resource"] = toStd(s.resource);
            e["issuer"] = toStd(s.issuer);
            e["state"] = toStd(s.state);
            e["expiresAt"] = s.expiresAt;
            e["scope"] = toStd(s.scope);
            if (!s.lastError.isEmpty())
                e["lastError"] = toStd(s.lastError);
            list.push_back(e);
        }
        c->sendResult(id, Json{{"servers", list}});
        return;
    }
    if (method == QLatin1String("agent/status")) {
        auto answer = [this, conn, id](bool available, const QString &detail) {
            if (!conn)
                return;
            Json keychain = Json::object();
            keychain["available"] = available;
            keychain["backend"] = toStd(m_engine.secretStoreName());
            keychain["persistent"] = m_engine.secretsPersistent();
            if (!detail.isEmpty())
                keychain["detail"] = toStd(detail);
            Json r = Json::object();
            r["version"] = MCPAUTH_VERSION;
            r["pid"] = QCoreApplication::applicationPid();
            r["keychain"] = keychain;
            conn->sendResult(id, r);
        };
        if (!m_keychainAvailable)
            return answer(false, m_keychainDetail); // in memory since start: nothing to ask
        // The keychain as it is now, not as it was at start (it can go away while the agent runs).
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        if (m_checkedAt >= 0 && now - m_checkedAt < kCheckReuseMs)
            return answer(m_lastCheck.ok(), m_lastCheck ? QString() : m_lastCheck.error().message);
        m_engine.checkSecrets(c, [this, answer](Status st) {
            m_checkedAt = QDateTime::currentMSecsSinceEpoch();
            m_lastCheck = st;
            answer(st.ok(), st ? QString() : st.error().message);
        });
        return;
    }
    if (method == QLatin1String("agent/shutdown")) {
        qCInfo(lcBroker) << "shutdown requested by" << c->peer().displayName();
        c->sendResult(id, Json::object());
        // Let the reply leave before the event loop stops.
        QTimer::singleShot(50, this, [this] { Q_EMIT shutdownRequested(); });
        return;
    }
    if (c)
        c->sendError(id, RpcError::MethodNotFound, QStringLiteral("unknown method: ") + method);
}

} // namespace mcpauth

#include "moc_AgentService.cpp"
