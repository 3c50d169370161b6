#include "proxy/ProxySignIn.h"

#include "broker/AgentClient.h"
#include "common/Log.h"

namespace mcpauth {

namespace {

Json challengeJson(const BearerChallenge &c)
{
    Json j = Json::object();
    if (!c.resourceMetadata.isEmpty())
        j["resourceMetadata"] = toStd(c.resourceMetadata.toString());
    if (!c.scope.isEmpty())
        j["scope"] = toStd(c.scope);
    if (!c.error.isEmpty())
        j["error"] = toStd(c.error);
    return j;
}

} // namespace

ProxySignIn::ProxySignIn(AgentClient *agent, Request request, QObject *parent)
    : QObject(parent), m_agent(agent), m_request(std::move(request))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        finish({Error::cancelled(
                    QStringLiteral("the sign-in did not finish within %1 s").arg(m_request.timeoutSeconds)),
                nullptr, m_signedIn});
    });
}

Json ProxySignIn::tokenParams() const
{
    return Json{{"resource", toStd(m_request.resource.toString())}, {"minValidSeconds", 60}};
}

bool ProxySignIn::needsSignIn(const Error &e)
{
    return e.category == Error::Category::LoginRequired || e.code == QLatin1String("login_required") ||
           e.code == QLatin1String("insufficient_scope");
}

void ProxySignIn::start()
{
    if (m_state != State::Idle)
        return;
    if (m_request.timeoutSeconds > 0)
        m_timer.start(m_request.timeoutSeconds * 1000);
    if (m_request.kind == Kind::StepUp) {
        qCInfo(lcProxy).noquote() << "step-up authorization for scope" << m_request.scope;
        return signIn(true);
    }
    m_state = State::Checking;
    QPointer<ProxySignIn> self(this);
    m_agent->call(QStringLiteral("token/get"), tokenParams(), [self](Result<Json> r) {
        if (!self || self->m_state != State::Checking)
            return;
        if (r) {
            const QString fresh = jsonString(r.value(), "accessToken");
            if (!fresh.isEmpty() && fresh != self->m_request.refusedToken)
                return self->finish({okStatus(), r.value(), false});
            // The server refuses the very token the agent holds: sign in again.
            return self->signIn(true);
        }
        if (needsSignIn(r.error()))
            return self->signIn(false);
        self->finish({r.error(), nullptr, false});
    });
}

void ProxySignIn::signIn(bool force)
{
    m_state = State::SigningIn;
    m_signedIn = true;
    Json params = Json::object();
    params["resource"] = toStd(m_request.resource.toString());
    if (m_request.challenge.present)
        params["challenge"] = challengeJson(m_request.challenge);
    if (!m_request.scope.isEmpty())
        params["scope"] = toStd(m_request.scope);
    if (force)
        params["force"] = true;
    qCInfo(lcProxy) << "signing in to" << m_request.resource.toString();
    QPointer<ProxySignIn> self(this);
    m_agent->call(QStringLiteral("login/start"), params, [self](Result<Json> r) {
        if (!self || self->m_state != State::SigningIn)
            return;
        if (!r)
            return self->finish({r.error(), nullptr, true});
        self->fetchToken();
    });
}

void ProxySignIn::fetchToken()
{
    m_state = State::Fetching;
    QPointer<ProxySignIn> self(this);
    m_agent->call(QStringLiteral("token/get"), tokenParams(), [self](Result<Json> t) {
        if (!self || self->m_state != State::Fetching)
            return;
        if (!t)
            return self->finish({t.error(), nullptr, true});
        self->finish({okStatus(), t.value(), true});
    });
}

void ProxySignIn::cancel()
{
    finish({Error::cancelled(), nullptr, m_signedIn});
}

void ProxySignIn::finish(Outcome outcome)
{
    if (m_state == State::Done)
        return;
    m_state = State::Done;
    m_timer.stop();
    Q_EMIT finished(outcome);
}

} // namespace mcpauth

#include "moc_ProxySignIn.cpp"
