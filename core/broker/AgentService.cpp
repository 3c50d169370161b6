#include "broker/AgentService.h"

#include "approvals/ApprovalGate.h"
#include "audit/AuditLog.h"
#include "broker/BrokerServer.h"
#include "broker/JsonRpcConnection.h"
#include "broker/RpcErrors.h"
#include "common/Log.h"
#include "discovery/MetadataFields.h"
#include "discovery/ResourceUri.h"
#include "engine/AuthEngine.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QTimer>

namespace mcpauth {

namespace {

Error invalidParams(const QString &why)
{
    return Error::config(QStringLiteral("invalid_params"), why);
}

/// The `resource` param as an absolute http(s) URL.
Result<QUrl> resourceParam(const Json &params)
{
    const QUrl url(jsonString(params, "resource"), QUrl::StrictMode);
    if (!isHttpUrl(url))
        return invalidParams(QStringLiteral("params.resource must be the MCP server's http(s) URL"));
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

Status validLoginParams(const Json &params)
{
    QString why;
    return loginOptions(params, &why) ? okStatus() : Status(invalidParams(why));
}

Status validConfigureParams(const Json &params)
{
    const Result<ServerConfig> config = ServerConfig::fromParams(params);
    return config ? okStatus() : Status(invalidParams(config.error().message));
}

Status validTokenParams(const Json &params)
{
    const auto it = params.find("minValidSeconds");
    if (it != params.end() && !it->is_null() && !it->is_number_integer())
        return invalidParams(QStringLiteral("params.minValidSeconds must be a whole number of seconds"));
    return okStatus();
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

AgentService::AgentService(AuthEngine &engine, BrokerServer &server, std::shared_ptr<AccessGate> gate,
                           QObject *parent)
    : QObject(parent), m_engine(engine)
{
    setGate(std::move(gate));
    connect(&server, &BrokerServer::connectionAccepted, this, &AgentService::onConnection);
}

void AgentService::setGate(std::shared_ptr<AccessGate> gate)
{
    m_gate = gate ? std::move(gate) : std::make_shared<OpenGate>();
}

void AgentService::setApprovals(std::shared_ptr<ApprovalGate> approvals)
{
    m_approvals = approvals;
    setGate(std::move(approvals));
}

void AgentService::setKeychainStatus(bool available, const QString &detail)
{
    m_keychainAvailable = available;
    m_keychainDetail = detail;
}

const QHash<QString, AgentService::Method> &AgentService::methods()
{
    static const QHash<QString, Method> table = {
        {QStringLiteral("token/get"), {&AgentService::tokenGet, true, &validTokenParams}},
        {QStringLiteral("login/start"), {&AgentService::loginStart, true, &validLoginParams}},
        {QStringLiteral("server/configure"), {&AgentService::serverConfigure, true, &validConfigureParams}},
        {QStringLiteral("logout"), {&AgentService::logout, true}},
        {QStringLiteral("servers/list"), {&AgentService::serversList, false}},
        {QStringLiteral("agent/status"), {&AgentService::agentStatus, false}},
        {QStringLiteral("agent/shutdown"), {&AgentService::agentShutdown, false}},
        {QStringLiteral("approvals/list"), {&AgentService::approvalsList, false}},
        {QStringLiteral("approvals/decide"), {&AgentService::approvalsDecide, false}},
        {QStringLiteral("grants/list"), {&AgentService::grantsList, false}},
        {QStringLiteral("grants/revoke"), {&AgentService::grantsRevoke, false}},
    };
    return table;
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
    if (method == QLatin1String("token/get") && answerHot(c, id, params))
        return;
    const QPointer<JsonRpcConnection> conn(c);
    const Reply reply = [conn, id](Result<Json> r) {
        if (!conn)
            return;
        if (r)
            conn->sendResult(id, r.value());
        else
            conn->sendError(id, rpcCodeFor(r.error()), r.error().message, rpcErrorData(r.error()));
    };
    const auto it = methods().constFind(method);
    if (it == methods().constEnd()) {
        c->sendError(id, RpcError::MethodNotFound, QStringLiteral("unknown method: ") + method.left(64));
        return;
    }
    Call call{conn, method, params.is_object() ? params : Json::object(), QUrl(), QString()};
    const Handler handler = it->handler;
    if (!it->gated)
        return (this->*handler)(call, reply);

    if (!c->peer().connectorAlive()) {
        // The socket outlived the process that opened it (handed on to a child, or the pid was
        // reused): whoever holds it now was never identified. Say why and hang up.
        qCWarning(lcBroker) << "pid" << c->peer().pid << "has exited; its connection is closed";
        reply(Error::approvalDenied(
            QStringLiteral("identity"),
            QStringLiteral("the process that opened this connection (pid %1) has exited; connect again")
                .arg(c->peer().pid)));
        c->close();
        return;
    }
    const Result<Resource> server = resource(call.params);
    if (!server)
        return reply(server.error());
    if (it->validate)
        if (const Status valid = it->validate(call.params); !valid)
            return reply(valid.error());
    call.resource = server->url;
    call.server = server->canonical;
    // The hot path (token/get) logs nothing at the default level.
    if (method == QLatin1String("token/get"))
        qCDebug(lcBroker) << method << call.server << "for" << c->peer().displayName();
    else
        qCInfo(lcBroker) << method << call.server << "for" << c->peer().displayName();
    const AccessRequest request{c->peer(), method, call.resource, call.server,
                                jsonString(call.params, "scope")};
    const Reply audited = !m_audit ? reply : Reply([this, call, reply, app = c->peer().app](Result<Json> r) {
        auditCall(call, app, r);
        reply(std::move(r));
    });
    m_gate->check(request, c, [this, call, audited, handler](Status decision) {
        if (!decision)
            return audited(decision.error());
        if (call.connection)
            (this->*handler)(call, audited);
    });
}

Result<AgentService::Resource> AgentService::resource(const Json &params)
{
    const QString text = jsonString(params, "resource");
    if (const auto it = m_resources.constFind(text); it != m_resources.constEnd())
        return *it;
    const Result<QUrl> url = resourceParam(params);
    if (!url)
        return url.error();
    const Result<QUrl> canonical = ResourceUri::canonical(url.value());
    Resource r{url.value(), canonical ? ResourceUri::toString(canonical.value()) : url->toString()};
    if (m_resources.size() >= maxCachedResources)
        m_resources.clear(); // a client sending endless distinct URLs gets no memory of them
    m_resources.insert(text, r);
    return r;
}

std::optional<QByteArray> AgentService::hotKey(const Json &params)
{
    const auto resource = params.find("resource");
    if (resource == params.end() || !resource->is_string())
        return std::nullopt;
    std::string key = resource->get_ref<const std::string &>();
    key += '\n';
    if (const auto scope = params.find("scope"); scope != params.end() && !scope->is_null()) {
        if (!scope->is_string())
            return std::nullopt;
        key += scope->get_ref<const std::string &>();
    }
    key += '\n';
    if (const auto min = params.find("minValidSeconds"); min != params.end() && !min->is_null()) {
        if (!min->is_number_integer())
            return std::nullopt;
        key += min->dump();
    }
    return QByteArray::fromStdString(key);
}

bool AgentService::answerHot(JsonRpcConnection *c, const Json &id, const Json &params)
{
    if (id.is_null())
        return false;
    const auto answers = m_hot.find(c);
    if (answers == m_hot.end() || answers->isEmpty())
        return false;
    const std::optional<QByteArray> key = hotKey(params);
    if (!key)
        return false;
    const auto it = answers->find(*key);
    if (it == answers->end())
        return false;
    const HotAnswer &hot = *it;
    // Anything that could change the answer sends the request down the full path, which also says
    // why when it refuses: the tokens or a server's state changed, the token no longer serves this
    // minValidSeconds, the connecting process is gone, or the gate wants to ask.
    if (hot.generation != m_engine.generation() || (hot.until != 0 && m_engine.clock().now() > hot.until) ||
        !c->peer().connectorAlive() || !m_gate->allowsNow(hot.request)) {
        answers->erase(it);
        return false;
    }
    c->sendSerializedResult(id, hot.result);
    if (m_audit)
        m_audit->countToken(hot.appName, hot.request.caller.app.executable, hot.request.server,
                            QStringLiteral("ok"));
    return true;
}

void AgentService::keepHot(const Call &call, const TokenSet &tokens, qint64 minValid, const Json &result)
{
    JsonRpcConnection *c = call.connection;
    const std::optional<QByteArray> key = hotKey(call.params);
    if (!c || c->state() != JsonRpcConnection::State::Open || !key)
        return;
    auto answers = m_hot.find(c);
    if (answers == m_hot.end()) {
        answers = m_hot.insert(c, {});
        connect(c, &QObject::destroyed, this, [this, c] { m_hot.remove(c); });
    }
    if (answers->size() >= maxHotPerConnection)
        answers->clear(); // a client cycling through many URLs gets no memory of them
    HotAnswer hot{
        AccessRequest{c->peer(), call.method, call.resource, call.server, jsonString(call.params, "scope")},
        c->peer().app.displayName(), toBytes(result), m_engine.generation(), tokens.servableUntil(minValid)};
    answers->insert(*key, std::move(hot));
}

// What the audit log keeps of a call that acted for a server: who, which server, the outcome; never
// a token (the result is not looked at beyond its scope and `revoked`).
void AgentService::auditCall(const Call &call, const AppIdentity &app, const Result<Json> &result)
{
    const QString &server = call.server;
    const QString outcome = result ? QStringLiteral("ok")
                            : result.error().reason.isEmpty()
                                ? result.error().code
                                : QStringLiteral("denied: ") + result.error().reason;
    if (call.method == QLatin1String("token/get"))
        return m_audit->countToken(app.displayName(), app.executable, server, outcome);
    const char *event = call.method == QLatin1String("login/start") ? "signin"
                        : call.method == QLatin1String("logout")    ? "signout"
                                                                    : "configure";
    Json fields{{"app", toStd(app.displayName())},
                {"executable", toStd(app.executable)},
                {"server", toStd(server)},
                {"outcome", toStd(outcome)}};
    if (const QString sha = m_approvals ? m_approvals->knownHash(app) : QString(); !sha.isEmpty())
        fields["sha256"] = toStd(sha);
    const QList<ServerStatus> servers = m_engine.servers();
    for (const ServerStatus &s : servers)
        if (s.resource == server && !s.issuer.isEmpty())
            fields["issuer"] = toStd(s.issuer);
    if (result && result->contains("scope"))
        fields["scopes"] = (*result)["scope"];
    else if (!jsonString(call.params, "scope").isEmpty())
        fields["scopes"] = toStd(jsonString(call.params, "scope"));
    if (result && result->contains("revoked"))
        fields["revoked"] = (*result)["revoked"];
    m_audit->record(QString::fromLatin1(event), std::move(fields));
}

void AgentService::tokenGet(const Call &call, Reply reply)
{
    const qint64 minValid =
        std::clamp<qint64>(jsonInt(call.params, "minValidSeconds").value_or(60), 0, 24 * 3600);
    m_engine.token(call.resource, jsonString(call.params, "scope"), minValid, call.connection,
                   [this, call, minValid, reply](Result<TokenSet> r) {
                       if (!r)
                           return reply(r.error());
                       Json result = tokenResult(r.value());
                       keepHot(call, r.value(), minValid, result);
                       reply(std::move(result));
                   });
}

void AgentService::loginStart(const Call &call, Reply reply)
{
    QString why;
    const std::optional<AuthEngine::LoginOptions> options = loginOptions(call.params, &why);
    if (!options)
        return reply(invalidParams(why));
    m_engine.login(call.resource, jsonString(call.params, "scope"), *options, call.connection,
                   [reply](Result<TokenSet> r) {
                       if (!r)
                           return reply(r.error());
                       Json result = tokenResult(r.value());
                       result.erase("accessToken"); // login/start answers "signed in", not with a token
                       reply(result);
                   });
}

void AgentService::serverConfigure(const Call &call, Reply reply)
{
    const Result<ServerConfig> config = ServerConfig::fromParams(call.params);
    if (!config)
        return reply(invalidParams(config.error().message));
    m_engine.configure(call.resource, config.value(), call.connection, [reply](Status st) {
        if (!st)
            return reply(st.error());
        reply(Json::object());
    });
}

void AgentService::logout(const Call &call, Reply reply)
{
    m_engine.logout(call.resource, call.connection, [reply](Result<bool> r) {
        if (!r)
            return reply(r.error());
        reply(Json{{"revoked", r.value()}});
    });
}

void AgentService::serversList(const Call &, Reply reply)
{
    Json list = Json::array();
    const QList<ServerStatus> servers = m_engine.servers();
    for (const ServerStatus &s : servers) {
        Json e = Json::object();
        e["resource"] = toStd(s.resource);
        e["issuer"] = toStd(s.issuer);
        e["state"] = toStd(serverStateName(s.state));
        e["expiresAt"] = s.expiresAt;
        e["scope"] = toStd(s.scope);
        if (!s.lastError.isEmpty())
            e["lastError"] = toStd(s.lastError);
        list.push_back(e);
    }
    reply(Json{{"servers", list}});
}

void AgentService::agentStatus(const Call &call, Reply reply)
{
    auto answer = [this, reply](bool available, const QString &detail) {
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
        reply(r);
    };
    if (!m_keychainAvailable)
        return answer(false, m_keychainDetail); // in memory since start: nothing to ask
    // The keychain as it is now, not as it was at start (it can go away while the agent runs).
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (m_checkedAt >= 0 && now - m_checkedAt < kCheckReuseMs)
        return answer(m_lastCheck.ok(), m_lastCheck ? QString() : m_lastCheck.error().message);
    m_engine.checkSecrets(call.connection, [this, answer](Status st) {
        m_checkedAt = QDateTime::currentMSecsSinceEpoch();
        m_lastCheck = st;
        answer(st.ok(), st ? QString() : st.error().message);
    });
}

void AgentService::agentShutdown(const Call &call, Reply reply)
{
    if (call.connection)
        qCInfo(lcBroker) << "shutdown requested by" << call.connection->peer().displayName();
    reply(Json::object());
    // Let the reply leave before the event loop stops.
    QTimer::singleShot(50, this, [this] { Q_EMIT shutdownRequested(); });
}

void AgentService::approvalsList(const Call &, Reply reply)
{
    reply(Json{{"approvals", m_approvals ? m_approvals->pending() : Json::array()},
               {"required", m_approvals && m_approvals->options().required}});
}

void AgentService::approvalsDecide(const Call &call, Reply reply)
{
    const QString id = jsonString(call.params, "id");
    const std::optional<ApprovalGate::Decision> decision =
        ApprovalGate::decisionFromName(jsonString(call.params, "decision"));
    if (id.isEmpty() || !decision)
        return reply(invalidParams(
            QStringLiteral("params: id, and decision one of once, while-running, always, deny")));
    if (!m_approvals)
        return reply(invalidParams(QStringLiteral("approvals are off: nothing waits for a decision")));
    const Status st =
        m_approvals->decide(id, *decision, call.connection ? call.connection->peer().app : AppIdentity());
    if (!st)
        return reply(st.error());
    reply(Json::object());
}

void AgentService::grantsList(const Call &, Reply reply)
{
    reply(Json{{"grants", m_approvals ? m_approvals->grants() : Json::array()}});
}

void AgentService::grantsRevoke(const Call &call, Reply reply)
{
    const QString id = jsonString(call.params, "id");
    const QString app = jsonString(call.params, "app");
    if (id.isEmpty() == app.isEmpty())
        return reply(invalidParams(QStringLiteral("params: id, or app (and server)")));
    const int removed = m_approvals ? m_approvals->revoke(id, app, jsonString(call.params, "server")) : 0;
    reply(Json{{"revoked", removed}});
}

} // namespace mcpauth

#include "moc_AgentService.cpp"
