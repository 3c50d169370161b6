#include "proxy/McpProxy.h"

#include "broker/AgentClient.h"
#include "broker/RpcErrors.h"
#include "common/JsonRpc.h"
#include "common/Log.h"
#include "proxy/ProxySignIn.h"

#include <QDateTime>
#include <QRegularExpression>

// McpProxy, part three: the bearer token and what happens when the server refuses it (401 and
// 403 decisions, the sign-in flow, refresh ahead of expiry). Part one (McpProxy.cpp) relays and
// closes; part two (McpProxyEras.cpp) picks the eras.

namespace mcpauth {

namespace {

// 2026-07-28 (SEP-2350): the new request is the union of what was held and what was challenged,
// in order, without duplicates.
QString unionScopes(const QString &held, const QString &challenged)
{
    static const QRegularExpression ws(QStringLiteral("\\s+"));
    QStringList out;
    const QStringList all = held.split(ws, Qt::SkipEmptyParts) + challenged.split(ws, Qt::SkipEmptyParts);
    for (const QString &s : all)
        if (!out.contains(s))
            out << s;
    return out.join(QLatin1Char(' '));
}

} // namespace

// The held token is about to expire: ask the agent for a fresh one before sending, rather than
// spending a round trip on the 401 the server would answer.
bool McpProxy::tokenNearExpiry() const
{
    if (m_token.isEmpty() || m_staticAuthorization || m_tokenExpiresAt <= 0)
        return false;
    const qint64 lifetime = m_tokenExpiresAt - m_tokenReceivedAt;
    const qint64 margin = std::min<qint64>(60, std::max<qint64>(lifetime / 2, 0));
    return QDateTime::currentSecsSinceEpoch() >= m_tokenExpiresAt - margin;
}

void McpProxy::refreshAhead()
{
    m_state = State::Refreshing;
    QPointer<McpProxy> self(this);
    m_agent->call(QStringLiteral("token/get"), tokenParams(), [self](Result<Json> r) {
        if (!self || self->m_state != State::Refreshing)
            return;
        if (r)
            self->applyToken(r.value());
        else // the request goes out with the old token; a 401 then takes the usual path
            qCDebug(lcProxy).noquote() << "refresh ahead of expiry failed:" << r.error().message;
        self->m_state = State::Ready;
        self->flushQueue();
    });
}

void McpProxy::onAuthorizationRequired(const Json &message, int httpStatus, const BearerChallenge &challenge)
{
    if (m_state == State::Closing || m_state == State::Closed)
        return failMessage(message, authError, QStringLiteral("the proxy is shutting down"),
                           Error::cancelled());
    if (m_staticAuthorization)
        return failMessage(message, authError,
                           QStringLiteral("the server refused the Authorization header given with --header "
                                          "(HTTP %1)")
                               .arg(httpStatus),
                           Error::loginRequired(QStringLiteral("static authorization refused")));
    Tracked &t = m_tracked[JsonRpc::key(message)];
    if (t.sentGeneration < m_generation) {
        // Sent with an older token than we hold now (another message's sign-in finished since).
        return message.is_null() ? probe() : sendToServer(message);
    }
    if (m_state == State::Authorizing) {
        m_waitingRetry.append(message);
        return;
    }
    if (httpStatus == 403) {
        // Spec 2025-11-25 "Scope challenge handling": 403 with error="insufficient_scope" and the
        // scope needed. Some servers send the scope without the error code: a scope is a challenge too.
        const bool stepUp = challenge.error == QLatin1String("insufficient_scope") ||
                            (challenge.error.isEmpty() && !challenge.scope.isEmpty());
        if (!stepUp)
            return failMessage(message, authError,
                               QStringLiteral("the server refused the request (HTTP 403%1)")
                                   .arg(challenge.errorDescription.isEmpty()
                                            ? QString()
                                            : QStringLiteral(": ") + challenge.errorDescription.left(200)),
                               Error::protocol(QStringLiteral("forbidden"), QStringLiteral("HTTP 403")));
        if (t.authorizations >= maxAuthorizations)
            return failMessage(
                message, authError,
                QStringLiteral("insufficient scope after %1 attempts").arg(t.authorizations),
                Error::protocol(QStringLiteral("insufficient_scope"), QStringLiteral("insufficient scope")));
        return beginAuthorization(message, AuthKind::StepUp, challenge);
    }
    // 401. Spec 2025-11-25 "Token handling": a 401 right after a completed sign-in is final.
    if (t.retried401)
        return failMessage(message, authError, QStringLiteral("the server rejected the sign-in"),
                           Error::loginRequired(QStringLiteral("the server rejected the sign-in")));
    t.retried401 = true;
    beginAuthorization(message, AuthKind::Unauthorized, challenge);
}

void McpProxy::beginAuthorization(const Json &message, AuthKind kind, const BearerChallenge &challenge)
{
    m_state = State::Authorizing;
    m_authMessage = message;
    m_authKind = kind;
    ProxySignIn::Request request;
    request.kind = kind == AuthKind::StepUp ? ProxySignIn::Kind::StepUp : ProxySignIn::Kind::Unauthorized;
    request.resource = m_options.serverUrl;
    request.challenge = challenge;
    if (kind == AuthKind::StepUp)
        request.scope = unionScopes(m_scope, challenge.scope);
    request.refusedToken = m_token;
    request.timeoutSeconds = m_options.authTimeoutSeconds;
    m_signIn = new ProxySignIn(m_agent, request, this);
    connect(m_signIn, &ProxySignIn::finished, this, [this](const ProxySignIn::Outcome &outcome) {
        m_signIn->deleteLater();
        m_signIn = nullptr;
        if (outcome.signedIn)
            ++m_tracked[JsonRpc::key(m_authMessage)].authorizations;
        if (outcome.status)
            applyToken(outcome.token);
        endAuthorization(outcome.status);
    });
    m_signIn->start();
}

void McpProxy::applyToken(const Json &tokenResult)
{
    const QString token = jsonString(tokenResult, "accessToken");
    m_scope = jsonString(tokenResult, "scope");
    m_tokenExpiresAt = jsonInt(tokenResult, "expiresAt").value_or(0);
    m_tokenReceivedAt = QDateTime::currentSecsSinceEpoch();
    if (token == m_token)
        return;
    m_token = token;
    ++m_generation;
    if (m_transport)
        m_transport->setAccessToken(m_token);
    if (m_modern)
        m_modern->setAccessToken(m_token);
}

void McpProxy::endAuthorization(const Status &outcome)
{
    if (m_state != State::Authorizing)
        return;
    m_state = State::Ready;
    const Json message = std::exchange(m_authMessage, Json());
    const QList<Json> waiting = std::exchange(m_waitingRetry, {});
    if (outcome && message.is_null()) {
        // Signed in for the era probe: probe again, then what waits goes out.
        m_queue = waiting + m_queue;
        return probe();
    }
    if (outcome) {
        sendToServer(message);
        for (const Json &m : waiting)
            sendToServer(m);
        return flushQueue();
    }
    const Error &e = outcome.error();
    qCWarning(lcProxy).noquote() << "sign-in failed:" << e.message;
    const QString text =
        QStringLiteral("sign-in to %1 did not complete: %2").arg(m_options.serverUrl.toString(), e.message);
    const int code = e.category == Error::Category::Cancelled ? int(RpcError::Cancelled) : authError;
    failMessage(message, code, text, e);
    for (const Json &m : waiting)
        failMessage(m, code, text, e);
    if (m_authKind == AuthKind::Unauthorized) {
        // Requests that waited for this sign-in would only meet the same 401: they fail with it.
        // Notifications and responses still go out; later requests are served as usual.
        QList<Json> rest;
        for (const Json &m : std::as_const(m_queue)) {
            if (JsonRpc::isRequest(m))
                failMessage(m, code, text, e);
            else
                rest << m;
        }
        m_queue = rest;
    }
    flushQueue();
}

} // namespace mcpauth
