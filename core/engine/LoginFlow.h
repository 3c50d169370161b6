#pragma once

#include "common/Clock.h"
#include "common/Result.h"
#include "discovery/Discovery.h"
#include "discovery/WwwAuthenticate.h"
#include "login/Pkce.h"
#include "net/HttpClient.h"
#include "registration/ClientRegistration.h"
#include "tokens/TokenSet.h"

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <optional>

namespace mcpauth {

class Browser;
class DynamicRegistration;
class LoopbackReceiver;
class TokenClient;

/// What a finished sign-in produced: where the server sends us, the client identity used
/// (new when it was just registered), and the tokens.
struct LoginOutcome
{
    DiscoveryResult discovery;
    ClientRegistration client;
    bool clientIsNew = false;
    TokenSet tokens;
    QString requestedScope;
    QString resource; ///< the RFC 8707 `resource` sent (canonical MCP URL, or the configured override)
};

/// One interactive sign-in to one MCP server, from discovery to tokens (design.md "Authorization
/// engine" steps 1–5). It never stores anything: the engine stores the outcome.
///
///   Idle → Discovering → [Registering] → WaitingForBrowser → Exchanging → Done
///              │               │                 │               │
///              └───────────────┴──── Failed ─────┴───────────────┘   (cancel() → Cancelled)
///
/// Registering is skipped when a client for the issuer exists and its loopback redirect can be
/// bound again; when the port is taken a fresh port is used and a dynamic client is registered
/// again (its redirect changed). A pre-registered client with a configured redirect URI gets exactly
/// that URI (its port must be free); one without, and a CIMD client, get an ephemeral 127.0.0.1 port.
class LoginFlow : public QObject
{
    Q_OBJECT
public:
    enum class State {
        Idle,
        Discovering,
        Registering,
        WaitingForBrowser,
        Exchanging,
        Done,
        Failed,
        Cancelled
    };

    struct Request
    {
        QUrl mcpUrl;
        QString scope;                            ///< explicit scope; empty = spec's scope selection
        std::optional<BearerChallenge> challenge; ///< a 401/403 challenge the caller already holds
        int browserTimeoutMs = 5 * 60 * 1000;
        QString resourceOverride; ///< sent as `resource` instead of the canonical MCP URL
        QList<QPair<QString, QString>> authorizeParams; ///< extra authorization request parameters
        /// Extra RFC 7591 fields for a registration; its `scope` is the last resort of scope selection
        /// (after the challenge and the PRM, as the TS SDK and mcp-remote do).
        Json clientMetadata = Json::object();
    };
    /// Picks the client for a discovered server (pre-registered → CIMD → stored dynamic client), or
    /// nullopt to register dynamically, or an error when a configured client cannot be used there.
    using ClientLookup = std::function<Result<std::optional<ClientRegistration>>(const DiscoveryResult &)>;

    LoginFlow(const HttpClient &http, const Clock &clock, Browser &browser, ClientLookup clientLookup,
              Request request, QObject *parent = nullptr);
    ~LoginFlow() override;

    void start();
    void cancel();
    State state() const { return m_state; }

Q_SIGNALS:
    /// Fires exactly once, when the flow ends for any reason.
    void finished(const mcpauth::Result<mcpauth::LoginOutcome> &result);
    /// Fires once, just before the browser is opened (lets callers say "check your browser").
    void browserOpening(const QUrl &authorizationUrl);

private:
    void onDiscovered(const Result<DiscoveryResult> &result);
    void prepareClient();
    void registerClient(const QString &redirectUri);
    void openBrowser();
    void onCallback(const QUrlQuery &query);
    void fail(const Error &error);
    QString resourceParam() const;
    void succeed();

    HttpClient m_http;
    const Clock &m_clock;
    Browser &m_browser;
    ClientLookup m_clientLookup;
    Request m_request;
    State m_state = State::Idle;

    QPointer<Discovery> m_discovery;
    QPointer<DynamicRegistration> m_registration;
    QPointer<LoopbackReceiver> m_receiver;
    std::unique_ptr<TokenClient> m_tokenClient;
    QTimer m_browserTimeout;

    LoginOutcome m_outcome;
    Pkce m_pkce;
    QString m_stateParam;
    QString m_redirectUri;
    bool m_promptConsent = false;
    bool m_callbackReceived = false;
};

} // namespace mcpauth
