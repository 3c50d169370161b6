#pragma once

#include "common/Clock.h"
#include "common/Json.h"
#include "common/Result.h"
#include "discovery/Discovery.h"
#include "discovery/WwwAuthenticate.h"
#include "engine/ServerConfig.h"
#include "engine/ServerSession.h"
#include "net/HttpClient.h"
#include "registration/ClientRegistration.h"
#include "tokens/TokenSet.h"

#include <QHash>
#include <QObject>
#include <QUrl>

#include <functional>
#include <memory>

namespace mcpauth {

class Browser;
class ClientDirectory;
class SecretStore;
class ServerSession;
class StateFile;
class TokenClient;
struct LoginOutcome;

/// The agent's authorization engine: one session per MCP server, every token, every sign-in and
/// every refresh of the machine's user goes through it (design.md "Processes"). It guarantees one
/// sign-in per server however many callers wait for it, one refresh per server however many ask
/// at once, that a rotated refresh token reaches the secret store before the new access token is
/// handed out, and that a network failure never deletes tokens.
///
/// Non-secret state (servers, metadata, registrations without secrets) goes to the StateFile;
/// tokens and client secrets only to the SecretStore.
class AuthEngine : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int browserTimeoutMs = 5 * 60 * 1000;
        qint64 proactiveRefreshMinLifetime =
            300; ///< refresh ahead in the background only for tokens living longer
    };
    using TokenCallback = std::function<void(Result<TokenSet>)>;
    using StatusCallback = std::function<void(Status)>;
    /// How a sign-in was asked for (`login/start` params).
    struct LoginOptions
    {
        /// The 401/403 challenge the caller saw: discovery skips the probe and scope selection
        /// uses its scope.
        std::optional<BearerChallenge> challenge;
        /// Sign in even while a refresh is running (step-up): the sign-in starts after it.
        /// (A sign-in always signs in; tokens held are replaced only when it succeeds.)
        bool force = false;
    };

    AuthEngine(const HttpClient &http, const Clock &clock, SecretStore &secrets, StateFile &stateFile,
               Browser &browser, Options options, QObject *parent = nullptr);
    ~AuthEngine() override;

    /// Loads the state file and the client secrets it refers to. Call once before anything else.
    void start(QObject *context, StatusCallback done);

    /// A token for `mcpUrl` valid for at least `minValidSeconds` (capped at half the token's
    /// lifetime), refreshed first when needed. Never opens a browser: LoginRequired when the user
    /// must sign in.
    void token(const QUrl &mcpUrl, const QString &scope, qint64 minValidSeconds, QObject *context,
               TokenCallback done);
    /// Refreshes now (the tray's "Refresh now"), or joins the refresh running; LoginRequired when
    /// not signed in or the server gave no refresh token.
    void refreshNow(const QUrl &mcpUrl, QObject *context, TokenCallback done);
    /// Interactive sign-in; joins the one already running for this server. A non-empty `scope` is
    /// requested exactly (plus offline_access when the server offers it): step-up passes the union.
    void login(const QUrl &mcpUrl, const QString &scope, QObject *context, TokenCallback done);
    void login(const QUrl &mcpUrl, const QString &scope, const LoginOptions &options, QObject *context,
               TokenCallback done);
    /// Replaces the configuration of one server (`server/configure`), used from its next sign-in
    /// or refresh on. Persisted per canonical resource; a static client's secret goes to the
    /// secret store only. `done` fails when the secret could not be stored (nothing changed then).
    void configure(const QUrl &mcpUrl, const ServerConfig &config, QObject *context, StatusCallback done);
    /// The configuration of a server (empty when none).
    ServerConfig configuration(const QUrl &mcpUrl) const;
    /// Revokes (RFC 7009) where supported and forgets the tokens. Result: whether the server revoked.
    void logout(const QUrl &mcpUrl, QObject *context, std::function<void(Result<bool>)> done);

    QList<ServerStatus> servers() const;
    /// Moves on whenever any server's tokens or state change (serverChanged() included). An answer
    /// token() gave stays its answer while this stays the same and, for the same scope and
    /// minValidSeconds, until the token's servableUntil(): the broker's hot path relies on that.
    quint64 generation() const { return m_generation; }
    const Clock &clock() const { return m_clock; }
    QString secretStoreName() const;
    bool secretsPersistent() const;
    /// Whether the secret store works right now (SecretStore::probe), answered within
    /// `timeoutMs` at most: a keychain that went away while the agent runs is reported, not
    /// assumed. Error::keychain when it does not work or does not answer in time.
    void checkSecrets(QObject *context, StatusCallback done, int timeoutMs = 5000);

    /// A client registered out of band (config, IT policy) for an issuer: used before DCR.
    void addPreRegisteredClient(const ClientRegistration &client);

Q_SIGNALS:
    /// Fires once for each change of a server's status (state, expiry, scope, issuer, error),
    /// whatever caused it, with the status servers() gives from then on: the one source the tray,
    /// `servers/list` and the notifications share (issue 9.1). Also at the access token's expiry.
    void serverChanged(const mcpauth::ServerStatus &status);
    /// Fires when a server leaves servers() (a failed first sign-in pushed out by newer ones).
    void serverRemoved(const QString &resource);
    /// Fires when a sign-in opens the browser, once per sign-in.
    void browserOpened(const QString &resource);
    /// Fires when a refresh ends: `outcome` is "ok" or the error's code (for the audit log).
    void refreshed(const QString &resource, const QString &issuer, const QString &scope,
                   const QString &outcome);

private:
    ServerSession *session(const QUrl &canonical);
    /// The session of a server someone signed in to, or null after failing `done` (from the event loop).
    ServerSession *knownSession(const QUrl &mcpUrl, QObject *context, const TokenCallback &done);
    void ensureLoaded(ServerSession *s, QObject *context, TokenCallback then);
    void deliverToken(ServerSession *s, const QString &scope, qint64 minValid, QObject *context,
                      TokenCallback done);
    void refresh(ServerSession *s);
    void finishRefresh(ServerSession *s, const Result<TokenSet> &result);
    void runAfterRefresh(ServerSession *s);
    void storeTokens(ServerSession *s, const TokenSet &tokens, std::function<void()> then);
    /// Forgets the tokens (keychain too) and publishes the new state. Lost::Yes: the sign-in was
    /// lost, not ended by the user; the server shows SignInRequired.
    enum class Lost { No, Yes };
    /// `deleted` runs once the keychain has answered the removal.
    void dropTokens(ServerSession *s, const QString &reason, Lost lost, std::function<void()> deleted = {});
    void publish(ServerSession *s);
    std::optional<ServerStatus> statusOf(const ServerSession *s, qint64 now) const;
    void forgetClient(const QString &issuer);
    void scheduleProactiveRefresh(ServerSession *s);
    std::optional<ClientRegistration> clientFor(const ServerSession *s) const;
    Result<std::optional<ClientRegistration>> selectClient(const QString &resource,
                                                           const DiscoveryResult &d) const;
    const ServerConfig *configFor(const QString &resource) const;
    QString resourceParam(const ServerSession *s) const;
    void startLogin(ServerSession *s, const QString &scope, const LoginOptions &options);
    void finishLogin(ServerSession *s, const Result<LoginOutcome> &r);
    void forgetFailedServers(ServerSession *latest);
    void saveRecord(ServerSession *s);
    void persist();
    QString tokenKey(const ServerSession *s) const;

    HttpClient m_http;
    const Clock &m_clock;
    SecretStore &m_secrets;
    StateFile &m_stateFile;
    Browser &m_browser;
    Options m_options;
    std::unique_ptr<TokenClient> m_tokenClient;
    Json m_state;
    QHash<QString, ServerSession *> m_sessions; ///< by canonical resource string
    quint64 m_generation = 0;
    /// Servers never signed in whose sign-in failed, oldest first; at most kMaxFailedServers.
    QStringList m_failedServers;
    static constexpr int kMaxFailedServers = 32;
    std::unique_ptr<ClientDirectory> m_clients; ///< client identities and per-server configuration
};

} // namespace mcpauth
