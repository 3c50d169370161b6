#include "engine/LoginFlow.h"

#include "common/Log.h"
#include "common/Random.h"
#include "common/Redact.h"
#include "discovery/ResourceUri.h"
#include "login/AuthorizationRequest.h"
#include "login/AuthorizationResponse.h"
#include "login/Browser.h"
#include "login/LoopbackReceiver.h"
#include "registration/DynamicRegistration.h"
#include "tokens/TokenClient.h"

#include <QUrlQuery>

namespace mcpauth {

LoginFlow::LoginFlow(const HttpClient &http, const Clock &clock, Browser &browser, ClientLookup clientLookup,
                     Request request, QObject *parent)
    : QObject(parent), m_http(http), m_clock(clock), m_browser(browser),
      m_clientLookup(std::move(clientLookup)), m_request(std::move(request)),
      m_tokenClient(std::make_unique<TokenClient>(m_http, m_clock))
{
    m_browserTimeout.setSingleShot(true);
    connect(&m_browserTimeout, &QTimer::timeout, this, [this] {
        fail(Error::cancelled(QStringLiteral("the sign-in was not completed in the browser in time")));
    });
}

LoginFlow::~LoginFlow() = default;

void LoginFlow::start()
{
    if (m_state != State::Idle)
        return;
    m_state = State::Discovering;
    m_discovery = new Discovery(m_http, m_request.mcpUrl, this);
    if (m_request.challenge)
        m_discovery->setChallengeHint(*m_request.challenge);
    connect(m_discovery, &Discovery::finished, this, &LoginFlow::onDiscovered);
    m_discovery->start();
}

void LoginFlow::cancel()
{
    if (m_state == State::Done || m_state == State::Failed || m_state == State::Cancelled)
        return;
    fail(Error::cancelled(QStringLiteral("sign-in cancelled")));
}

void LoginFlow::onDiscovered(const Result<DiscoveryResult> &result)
{
    if (m_state != State::Discovering)
        return;
    if (!result) {
        fail(result.error());
        return;
    }
    m_outcome.discovery = result.value();
    const DiscoveryResult &d = m_outcome.discovery;
    qCInfo(lcLogin) << "discovered" << d.resource.toString() << "→ issuer" << d.issuer;

    // Spec 2025-11-25 "Scope Selection Strategy": challenge scope, else all PRM scopes_supported,
    // else omit. An explicit scope from the caller wins.
    QString scope = m_request.scope;
    if (scope.isEmpty())
        scope = AuthorizationRequest::selectScope(d.challenge.scope, d.prm.scopesSupported);
    if (scope.isEmpty())
        scope = AuthorizationRequest::scopeTokens(jsonString(m_request.clientMetadata, "scope"))
                    .join(QLatin1Char(' '));
    bool promptConsent = false;
    scope = AuthorizationRequest::withOfflineAccess(
        scope, d.metadata.supportsScope(QStringLiteral("offline_access")), &promptConsent);
    m_outcome.requestedScope = scope;
    m_outcome.resource = resourceParam();
    m_promptConsent = promptConsent;
    prepareClient();
}

void LoginFlow::prepareClient()
{
    const DiscoveryResult &d = m_outcome.discovery;
    Result<std::optional<ClientRegistration>> lookedUp =
        m_clientLookup ? m_clientLookup(d) : Result<std::optional<ClientRegistration>>(std::nullopt);
    if (!lookedUp) {
        fail(lookedUp.error());
        return;
    }
    std::optional<ClientRegistration> known = lookedUp.value();
    if (known && known->issuer != d.issuer)
        known.reset(); // 2026-07-28 AS binding: never present a client to another issuer

    m_receiver = new LoopbackReceiver(this);
    connect(m_receiver, &LoopbackReceiver::callbackReceived, this, &LoginFlow::onCallback);

    if (known && known->source == ClientRegistration::Source::PreRegistered &&
        !known->redirectUri.isEmpty()) {
        // A pre-registered redirect is sent exactly as registered (the server compares it); we can
        // only receive on 127.0.0.1 at its port and path. RFC 8252 §7.3: without a port, any port.
        QUrl registered(known->redirectUri);
        const quint16 port = quint16(registered.port(0));
        const QString path = registered.path().isEmpty() ? QStringLiteral("/") : registered.path();
        Result<QString> bound = m_receiver->listen(port, path);
        if (!bound) {
            fail(bound.error().withContext(QStringLiteral("the configured redirect URI")));
            return;
        }
        if (!port)
            registered.setPort(m_receiver->port());
        m_redirectUri = port ? known->redirectUri : registered.toString(QUrl::FullyEncoded);
        m_outcome.client = *known;
        openBrowser();
        return;
    }
    if (known) {
        // Reuse the registered redirect when its port is free; a dynamic client whose redirect
        // cannot be bound again is registered anew (design.md step 4).
        const quint16 port = quint16(QUrl(known->redirectUri).port(0));
        Result<QString> bound = port ? m_receiver->listen(port) : m_receiver->listen(0);
        if (!bound && port)
            bound = m_receiver->listen(0);
        if (!bound) {
            fail(bound.error());
            return;
        }
        m_redirectUri = bound.value();
        if (known->source == ClientRegistration::Source::Dynamic && !known->redirectUri.isEmpty() &&
            known->redirectUri != m_redirectUri) {
            qCInfo(lcLogin) << "loopback redirect changed; registering again with" << d.issuer;
            registerClient(m_redirectUri);
            return;
        }
        m_outcome.client = *known;
        openBrowser();
        return;
    }

    Result<QString> bound = m_receiver->listen(0);
    if (!bound) {
        fail(bound.error());
        return;
    }
    m_redirectUri = bound.value();
    registerClient(m_redirectUri);
}

void LoginFlow::registerClient(const QString &redirectUri)
{
    const DiscoveryResult &d = m_outcome.discovery;
    if (d.metadata.registrationEndpoint.isEmpty()) {
        fail(Error::config(
            QStringLiteral("no_client"),
            QStringLiteral("%1 offers no dynamic client registration and no client is configured "
                           "for it; ask its administrator for a client id")
                .arg(d.issuer)));
        return;
    }
    m_state = State::Registering;
    DynamicRegistration::Request req;
    req.registrationEndpoint = d.metadata.registrationEndpoint;
    req.issuer = d.issuer;
    req.redirectUri = redirectUri;
    req.scope = m_outcome.requestedScope;
    req.serverAuthMethods = d.metadata.tokenEndpointAuthMethodsSupported;
    req.extraMetadata = m_request.clientMetadata;
    m_registration = new DynamicRegistration(m_http, req, m_clock, this);
    connect(m_registration, &DynamicRegistration::finished, this,
            [this](const Result<ClientRegistration> &r) {
                if (m_state != State::Registering)
                    return;
                if (!r) {
                    fail(r.error().withContext(QStringLiteral("client registration")));
                    return;
                }
                m_outcome.client = r.value();
                m_outcome.clientIsNew = true;
                qCInfo(lcLogin) << "registered client with" << m_outcome.client.issuer;
                openBrowser();
            });
    m_registration->start();
}

void LoginFlow::openBrowser()
{
    const DiscoveryResult &d = m_outcome.discovery;
    m_pkce = Pkce::generate();
    m_stateParam = Random::urlSafeToken(32);
    // Only the request carrying this state is the callback; forged ones are answered and ignored.
    m_receiver->setExpectedState(m_stateParam);

    AuthorizationRequest::Params p;
    p.authorizationEndpoint = d.metadata.authorizationEndpoint;
    p.clientId = m_outcome.client.clientId;
    p.redirectUri = m_redirectUri;
    p.codeChallenge = m_pkce.challenge;
    p.state = m_stateParam;
    p.resource = m_outcome.resource; // RFC 8707 + spec: always sent
    p.scope = m_outcome.requestedScope;
    p.promptConsent = m_promptConsent;
    p.extra = m_request.authorizeParams;
    const QUrl url = AuthorizationRequest::build(p);

    m_state = State::WaitingForBrowser;
    m_browserTimeout.start(m_request.browserTimeoutMs);
    Q_EMIT browserOpening(url);
    qCInfo(lcLogin) << "opening the browser for" << d.issuer;
    const Status opened = m_browser.open(url);
    if (!opened)
        fail(opened.error().withContext(QStringLiteral("could not open the browser")));
}

void LoginFlow::onCallback(const QUrlQuery &query)
{
    if (m_state != State::WaitingForBrowser)
        return;
    m_browserTimeout.stop();
    const DiscoveryResult &d = m_outcome.discovery;
    // RFC 6749 §10.12 state, RFC 9207 iss (checked against the issuer recorded at discovery).
    const Result<QString> code = AuthorizationResponse::validate(
        query, m_stateParam, d.metadata.issuer, d.metadata.authorizationResponseIssParameterSupported);
    m_callbackReceived = true;
    if (!code) {
        fail(code.error());
        return;
    }
    m_state = State::Exchanging;
    m_tokenClient->exchangeCode(d.metadata, m_outcome.client, code.value(), m_pkce.verifier, m_redirectUri,
                                m_outcome.resource, m_outcome.requestedScope, this,
                                [this](Result<TokenSet> tokens) {
                                    if (m_state != State::Exchanging)
                                        return;
                                    if (!tokens) {
                                        fail(tokens.error().withContext(QStringLiteral("token exchange")));
                                        return;
                                    }
                                    m_outcome.tokens = tokens.value();
                                    succeed();
                                });
}

QString LoginFlow::resourceParam() const
{
    return m_request.resourceOverride.isEmpty() ? m_outcome.discovery.resourceIndicator()
                                                : m_request.resourceOverride;
}

void LoginFlow::fail(const Error &error)
{
    m_browserTimeout.stop();
    if (m_discovery)
        m_discovery->cancel();
    if (m_registration)
        m_registration->cancel();
    // The browser that delivered the callback gets a failure page; otherwise just stop listening.
    if (m_receiver) {
        if (m_callbackReceived)
            m_receiver->respond(false, error.message);
        else
            m_receiver->close();
    }
    m_state = error.category == Error::Category::Cancelled ? State::Cancelled : State::Failed;
    qCInfo(lcLogin) << "sign-in failed:" << error.code << error.message;
    Q_EMIT finished(error);
}

void LoginFlow::succeed()
{
    m_state = State::Done;
    m_receiver->respond(true, m_outcome.discovery.resource.toString());
    qCInfo(lcLogin) << "signed in to" << m_outcome.discovery.resource.toString();
    Q_EMIT finished(m_outcome);
}

} // namespace mcpauth

#include "moc_LoginFlow.cpp"
