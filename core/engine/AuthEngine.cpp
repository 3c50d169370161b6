#include "engine/AuthEngine.h"

#include "engine/ClientDirectory.h"

#include "common/Log.h"
#include "common/Redact.h"
#include "discovery/ResourceUri.h"
#include "engine/ClientSelector.h"
#include "engine/LoginFlow.h"
#include "engine/ServerSession.h"
#include "login/Browser.h"
#include "storage/SecretStore.h"
#include "storage/StateFile.h"
#include "tokens/TokenClient.h"

#include <QSet>

namespace mcpauth {

namespace {

const char *const kServers = "servers";

QSet<QString> scopeSet(const QString &scope)
{
    const QStringList parts = scope.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    return QSet<QString>(parts.begin(), parts.end());
}

Error notSignedIn(const ServerSession *s)
{
    return Error::loginRequired(
        QStringLiteral("not signed in to %1; run: mcp-auth login %1").arg(s->mcpUrl.toString()));
}

} // namespace

AuthEngine::AuthEngine(const HttpClient &http, const Clock &clock, SecretStore &secrets, StateFile &stateFile,
                       Browser &browser, Options options, QObject *parent)
    : QObject(parent), m_http(http), m_clock(clock), m_secrets(secrets), m_stateFile(stateFile),
      m_browser(browser), m_options(options), m_tokenClient(std::make_unique<TokenClient>(m_http, m_clock)),
      m_state(Json::object()), m_clients(std::make_unique<ClientDirectory>(m_secrets))
{}

AuthEngine::~AuthEngine() = default;

void AuthEngine::start(QObject *context, StatusCallback done)
{
    Result<Json> loaded = m_stateFile.load();
    if (!loaded) {
        // A corrupt state file was set aside by StateFile; start empty rather than refuse to run.
        qCWarning(lcEngine) << "state file unusable, starting empty:" << loaded.error().message;
        m_state = Json::object();
    } else {
        m_state = loaded.value();
    }
    if (!m_state.contains(kServers) || !m_state[kServers].is_object())
        m_state[kServers] = Json::object();
    // Client identities first (synchronously, apart from their secrets): the records below need the
    // per-server configuration. `done` runs from the event loop, after this function returns.
    m_clients->load(m_state, context, std::move(done));

    for (auto it = m_state[kServers].begin(); it != m_state[kServers].end(); ++it) {
        const QUrl canonical(fromStd(it.key()));
        ServerSession *s = session(canonical);
        const Json &rec = it.value();
        s->mcpUrl = QUrl(jsonString(rec, "mcpUrl"));
        if (!s->mcpUrl.isValid() || s->mcpUrl.isEmpty())
            s->mcpUrl = canonical;
        s->issuer = jsonString(rec, "issuer");
        if (rec.contains("discovery")) {
            s->discovery = DiscoveryResult::fromJson(rec["discovery"], canonical, s->issuer);
        }
        if (!jsonBool(rec, "signedIn").value_or(false))
            s->tokenState = ServerSession::TokenState::Absent;
        s->signInRequired = jsonBool(rec, "signInRequired").value_or(false);
    }
}

ServerSession *AuthEngine::session(const QUrl &canonical)
{
    const QString key = ResourceUri::toString(canonical);
    if (ServerSession *s = m_sessions.value(key))
        return s;
    auto *s = new ServerSession(canonical, this);
    connect(&s->proactiveRefresh, &QTimer::timeout, this, [this, s] {
        if (s->activity == ServerSession::Activity::Idle && s->tokens.hasRefreshToken()) {
            qCInfo(lcEngine) << "refreshing ahead of expiry:" << s->resourceString();
            refresh(s);
        }
    });
    connect(&s->expiryTick, &QTimer::timeout, this, [this, s] { publish(s); });
    m_sessions.insert(key, s);
    return s;
}

void AuthEngine::ensureLoaded(ServerSession *s, QObject *context, TokenCallback then)
{
    using TS = ServerSession::TokenState;
    if (s->tokenState == TS::Absent || s->tokenState == TS::Present) {
        then(s->tokens); // value unused by callers; they look at the session
        return;
    }
    s->loadWaiters.append({context, std::move(then)});
    if (s->tokenState == TS::Loading)
        return;
    if (s->issuer.isEmpty()) {
        s->tokenState = TS::Absent;
        ServerSession::resolve(s->loadWaiters, s->tokens);
        return;
    }
    s->tokenState = TS::Loading;
    m_secrets.read(tokenKey(s), s, [this, s](Result<std::optional<QByteArray>> r) {
        if (!r) {
            s->tokenState = TS::Unknown; // try again next time; never treat "keychain locked" as "signed out"
            ServerSession::resolve(s->loadWaiters, r.error());
            return;
        }
        if (!r.value()) {
            const Json record = m_state[kServers].value(toStd(s->resourceString()), Json::object());
            if (jsonBool(record, "signedIn").value_or(false)) {
                // The state file says tokens are stored, the keychain says no entry: a keychain that
                // went away (or came back empty and locked) looks like this. Ask it before calling
                // the user signed out.
                checkSecrets(s, [this, s](Status st) {
                    if (!st) {
                        s->tokenState = TS::Unknown; // try again next time; the tokens may come back
                        ServerSession::resolve(s->loadWaiters, st.error());
                        return;
                    }
                    qCInfo(lcEngine) << "stored tokens are gone for" << s->resourceString();
                    s->tokenState = TS::Absent;
                    s->signInRequired = true;
                    publish(s);
                    ServerSession::resolve(s->loadWaiters, s->tokens);
                });
                return;
            }
            s->tokenState = TS::Absent;
        } else {
            auto tokens = TokenSet::fromSecretJson(*r.value());
            if (tokens) {
                s->tokens = tokens.value();
                s->tokenState = TS::Present;
                ++m_generation;
                scheduleProactiveRefresh(s);
            } else {
                qCWarning(lcEngine) << "stored tokens unreadable for" << s->resourceString();
                s->tokenState = TS::Absent;
                s->signInRequired = true;
            }
        }
        publish(s);
        ServerSession::resolve(s->loadWaiters, s->tokens);
    });
}

void AuthEngine::token(const QUrl &mcpUrl, const QString &scope, qint64 minValidSeconds, QObject *context,
                       TokenCallback done)
{
    ServerSession *s = knownSession(mcpUrl, context, done);
    if (!s)
        return;
    if (s->issuer.isEmpty())
        s->mcpUrl = mcpUrl;
    ensureLoaded(s, context, [this, s, scope, minValidSeconds, context, done](Result<TokenSet> loaded) {
        if (!loaded) {
            done(loaded.error());
            return;
        }
        deliverToken(s, scope, minValidSeconds, context, done);
    });
}

ServerSession *AuthEngine::knownSession(const QUrl &mcpUrl, QObject *context, const TokenCallback &done)
{
    const Result<QUrl> canonical = ResourceUri::canonical(mcpUrl);
    if (!canonical) {
        QTimer::singleShot(0, context, [done, e = canonical.error()] { done(e); });
        return nullptr;
    }
    // No state for a server nobody signed in to: every unknown URL a client sends would otherwise
    // keep a session forever (security.md §7). Known servers all have one from start() or login().
    ServerSession *s = m_sessions.value(ResourceUri::toString(canonical.value()));
    if (!s) {
        QTimer::singleShot(0, context, [done, mcpUrl] {
            done(Error::loginRequired(
                QStringLiteral("not signed in to %1; run: mcp-auth login %1").arg(mcpUrl.toString())));
        });
        return nullptr;
    }
    return s;
}

void AuthEngine::refreshNow(const QUrl &mcpUrl, QObject *context, TokenCallback done)
{
    ServerSession *s = knownSession(mcpUrl, context, done);
    if (!s)
        return;
    ensureLoaded(s, context, [this, s, context, done](Result<TokenSet> loaded) {
        using A = ServerSession::Activity;
        if (!loaded)
            return done(loaded.error());
        if (s->activity == A::Refreshing)
            return s->tokenWaiters.append({context, done});
        if (s->tokenState != ServerSession::TokenState::Present || s->activity != A::Idle)
            return done(notSignedIn(s));
        if (!s->tokens.hasRefreshToken())
            return done(
                Error::loginRequired(QStringLiteral("%1 gave no refresh token; sign in again to renew")
                                         .arg(s->mcpUrl.toString())));
        s->tokenWaiters.append({context, done});
        refresh(s);
    });
}

void AuthEngine::deliverToken(ServerSession *s, const QString &scope, qint64 minValid, QObject *context,
                              TokenCallback done)
{
    using A = ServerSession::Activity;
    const auto inProgress = [s] {
        return Error::loginRequired(
            QStringLiteral("sign-in to %1 is in progress in the browser").arg(s->mcpUrl.toString()));
    };
    if (s->activity == A::Refreshing) {
        s->tokenWaiters.append({context, std::move(done)});
        return;
    }
    if (s->tokenState != ServerSession::TokenState::Present) {
        done(s->activity == A::SigningIn ? inProgress() : notSignedIn(s));
        return;
    }
    if (!scope.isEmpty() && !scopeSet(s->tokens.scope).contains(scopeSet(scope))) {
        // RFC 6749 §6: a refresh cannot widen scope; a new sign-in is needed (step-up).
        Error e = Error::loginRequired(QStringLiteral("the sign-in to %1 lacks scope \"%2\"; sign in again")
                                           .arg(s->mcpUrl.toString(), scope));
        e.code = QStringLiteral("insufficient_scope");
        done(e);
        return;
    }
    const qint64 effectiveMin = s->tokens.effectiveMinValid(minValid);
    if (s->tokens.isValidFor(m_clock.now(), effectiveMin)) {
        // Also while a (step-up) sign-in runs: the tokens held stay good until it succeeds.
        done(s->tokens);
        return;
    }
    if (s->activity == A::SigningIn) {
        done(inProgress()); // the sign-in brings fresh tokens; no refresh alongside it
        return;
    }
    if (!s->tokens.hasRefreshToken()) {
        done(Error::loginRequired(QStringLiteral("the sign-in to %1 has expired; run: mcp-auth login %1")
                                      .arg(s->mcpUrl.toString())));
        return;
    }
    s->tokenWaiters.append({context, std::move(done)});
    refresh(s);
}

void AuthEngine::refresh(ServerSession *s)
{
    if (s->activity != ServerSession::Activity::Idle)
        return;
    const std::optional<ClientRegistration> client = clientFor(s);
    if (!s->discovery || !client) {
        dropTokens(s, QStringLiteral("server metadata or client registration missing"), Lost::Yes);
        ServerSession::resolve(s->tokenWaiters, notSignedIn(s));
        runAfterRefresh(s);
        return;
    }
    s->activity = ServerSession::Activity::Refreshing;
    s->proactiveRefresh.stop();
    publish(s);
    qCInfo(lcTokens) << "refreshing tokens for" << s->resourceString();
    m_tokenClient->refresh(s->discovery->metadata, *client, s->tokens, resourceParam(s), s,
                           [this, s](Result<TokenSet> r) { finishRefresh(s, r); });
}

void AuthEngine::finishRefresh(ServerSession *s, const Result<TokenSet> &result)
{
    if (result) {
        // The old refresh token is spent (rotation): store the new one before anyone sees the new
        // access token, so a crash here cannot leave only a dead refresh token behind.
        storeTokens(s, result.value(), [this, s] {
            s->activity = ServerSession::Activity::Idle;
            s->lastError.clear();
            saveRecord(s);
            publish(s);
            Q_EMIT refreshed(s->resourceString(), s->issuer, s->tokens.scope, QStringLiteral("ok"));
            ServerSession::resolve(s->tokenWaiters, s->tokens);
            runAfterRefresh(s);
        });
        return;
    }
    s->activity = ServerSession::Activity::Idle;
    const Error &e = result.error();
    s->lastError = e.message;
    Q_EMIT refreshed(s->resourceString(), s->issuer, s->tokens.scope, e.code);
    if (e.category == Error::Category::LoginRequired) {
        // invalid_grant: the grant is gone (revoked, expired, or reuse detected). Sign in again.
        dropTokens(s, e.message, Lost::Yes);
        ServerSession::resolve(s->tokenWaiters,
                               Error{Error::Category::LoginRequired, e.code,
                                     QStringLiteral("the sign-in to %1 has expired or was revoked; "
                                                    "run: mcp-auth login %1")
                                         .arg(s->mcpUrl.toString())});
    } else if (e.code == QLatin1String("invalid_client")) {
        // The server no longer knows our client: forget it so the next sign-in registers again.
        forgetClient(s->issuer);
        dropTokens(s, e.message, Lost::Yes);
        ServerSession::resolve(s->tokenWaiters,
                               Error{Error::Category::LoginRequired, e.code,
                                     QStringLiteral("%1 no longer accepts this client; run: mcp-auth "
                                                    "login %2")
                                         .arg(s->issuer, s->mcpUrl.toString())});
    } else if (s->tokens.isValidFor(m_clock.now(), 1)) {
        // Network or server trouble: the current token still works, hand it out; keep everything.
        qCWarning(lcTokens) << "refresh failed, using the current token:" << e.message;
        ServerSession::resolve(s->tokenWaiters, s->tokens);
    } else {
        qCWarning(lcTokens) << "refresh failed, tokens kept:" << e.message;
        ServerSession::resolve(s->tokenWaiters, e);
    }
    publish(s);
    runAfterRefresh(s);
}

void AuthEngine::runAfterRefresh(ServerSession *s)
{
    const QList<std::function<void()>> queued = std::exchange(s->afterRefresh, {});
    for (const auto &f : queued)
        f();
}

void AuthEngine::storeTokens(ServerSession *s, const TokenSet &tokens, std::function<void()> then)
{
    s->tokens = tokens;
    s->tokenState = ServerSession::TokenState::Present;
    ++m_generation;
    m_secrets.write(tokenKey(s), toBytes(tokens.toSecretJson()), s, [this, s, then](Status st) {
        if (!st) {
            // Design.md: no keychain → keep tokens in memory for the agent's lifetime, say so.
            qCWarning(lcStorage) << "could not store tokens for" << s->resourceString() << ":"
                                 << st.error().message << "- keeping them in memory only";
            s->lastError = st.error().message;
        }
        scheduleProactiveRefresh(s);
        then();
    });
}

void AuthEngine::dropTokens(ServerSession *s, const QString &reason, Lost lost, std::function<void()> deleted)
{
    qCInfo(lcEngine) << "forgetting tokens for" << s->resourceString() << "-" << reason;
    s->proactiveRefresh.stop();
    s->tokens = TokenSet{};
    s->tokenState = ServerSession::TokenState::Absent;
    s->signInRequired = lost == Lost::Yes;
    ++m_generation;
    saveRecord(s);
    m_secrets.remove(tokenKey(s), s, [deleted = std::move(deleted)](Status st) {
        if (!st)
            qCWarning(lcStorage) << "could not delete tokens:" << st.error().message;
        if (deleted)
            deleted();
    });
    publish(s);
}

void AuthEngine::forgetClient(const QString &issuer)
{
    if (m_clients->forget(issuer))
        persist();
}

void AuthEngine::scheduleProactiveRefresh(ServerSession *s)
{
    s->proactiveRefresh.stop();
    const TokenSet &t = s->tokens;
    const qint64 lifetime = t.expiresAt > 0 ? t.expiresAt - t.obtainedAt : 0;
    if (!t.hasRefreshToken() || lifetime < m_options.proactiveRefreshMinLifetime)
        return;
    // Refresh when a tenth of the lifetime (at least a minute) is left.
    const qint64 at = t.expiresAt - std::max<qint64>(60, lifetime / 10);
    const qint64 inSeconds = std::max<qint64>(1, at - m_clock.now());
    s->proactiveRefresh.start(int(std::min<qint64>(inSeconds, 24 * 3600) * 1000));
}

void AuthEngine::login(const QUrl &mcpUrl, const QString &scope, QObject *context, TokenCallback done)
{
    login(mcpUrl, scope, LoginOptions{}, context, std::move(done));
}

void AuthEngine::login(const QUrl &mcpUrl, const QString &scope, const LoginOptions &options,
                       QObject *context, TokenCallback done)
{
    const Result<QUrl> canonical = ResourceUri::canonical(mcpUrl);
    if (!canonical) {
        QTimer::singleShot(0, context, [done, e = canonical.error()] { done(e); });
        return;
    }
    ServerSession *s = session(canonical.value());
    if (s->activity == ServerSession::Activity::Refreshing && options.force) {
        // Step-up: the refresh in flight cannot widen the scope; sign in once it is done.
        s->afterRefresh.append([this, mcpUrl, scope, options, context = QPointer<QObject>(context), done] {
            if (context)
                login(mcpUrl, scope, options, context, done);
        });
        return;
    }
    s->tokenWaiters.append({context, std::move(done)});
    if (s->activity == ServerSession::Activity::SigningIn)
        return; // one browser sign-in serves every caller
    if (s->activity == ServerSession::Activity::Refreshing)
        return; // the refresh in flight answers; a caller that still needs to sign in asks again
    s->mcpUrl = mcpUrl;
    startLogin(s, scope, options);
}

void AuthEngine::startLogin(ServerSession *s, const QString &scope, const LoginOptions &options)
{
    s->activity = ServerSession::Activity::SigningIn;
    publish(s);

    const QString resource = s->resourceString();
    const ServerConfig *config = configFor(resource);
    LoginFlow::Request req;
    req.mcpUrl = s->mcpUrl;
    req.scope = scope;
    req.challenge = options.challenge;
    req.browserTimeoutMs = m_options.browserTimeoutMs;
    if (config) {
        req.resourceOverride = config->resourceOverride;
        req.authorizeParams = config->authorizeParams;
        req.clientMetadata = config->clientMetadata;
    }
    auto lookup = [this, resource](const DiscoveryResult &d) { return selectClient(resource, d); };
    auto *flow = new LoginFlow(m_http, m_clock, m_browser, lookup, req, s);
    s->login = flow;
    connect(flow, &LoginFlow::browserOpening, this, [this, s] { Q_EMIT browserOpened(s->resourceString()); });
    connect(flow, &LoginFlow::finished, this, [this, s, flow](const Result<LoginOutcome> &r) {
        flow->deleteLater();
        finishLogin(s, r);
    });
    flow->start();
}

void AuthEngine::finishLogin(ServerSession *s, const Result<LoginOutcome> &r)
{
    if (!r) {
        // The tokens held (if any) stay: a failed or refused step-up leaves the old grant usable.
        s->activity = ServerSession::Activity::Idle;
        s->lastError = r.error().message;
        ServerSession::resolve(s->tokenWaiters, r.error());
        publish(s);
        if (s->issuer.isEmpty())
            forgetFailedServers(s);
        return;
    }
    const LoginOutcome &o = r.value();
    if (o.clientIsNew)
        m_clients->remember(o.client); // saved with the record below
    if (!s->issuer.isEmpty() && s->issuer != o.discovery.issuer) {
        // The server moved to another authorization server: the old tokens are useless there.
        m_secrets.remove(tokenKey(s), this, [](Status) {});
    }
    s->issuer = o.discovery.issuer;
    s->discovery = o.discovery;
    s->signInRequired = false;
    storeTokens(s, o.tokens, [this, s] {
        s->activity = ServerSession::Activity::Idle;
        s->lastError.clear();
        saveRecord(s);
        publish(s);
        ServerSession::resolve(s->tokenWaiters, s->tokens);
    });
}

void AuthEngine::forgetFailedServers(ServerSession *latest)
{
    // Servers whose first sign-in failed stay listed with their error (status shows why), but only
    // the most recent few: login/start to endless junk URLs must not grow the agent.
    m_failedServers.removeAll(latest->resourceString());
    m_failedServers.append(latest->resourceString());
    while (m_failedServers.size() > kMaxFailedServers) {
        const QString key = m_failedServers.takeFirst();
        ServerSession *old = m_sessions.value(key);
        if (!old || !old->issuer.isEmpty() || old->activity != ServerSession::Activity::Idle ||
            !old->tokenWaiters.isEmpty() || !old->loadWaiters.isEmpty())
            continue; // signed in meanwhile, or busy: not ours to drop
        m_sessions.remove(key);
        ++m_generation;
        old->deleteLater();
        Q_EMIT serverRemoved(key);
    }
}

void AuthEngine::logout(const QUrl &mcpUrl, QObject *context, std::function<void(Result<bool>)> done)
{
    const Result<QUrl> canonical = ResourceUri::canonical(mcpUrl);
    if (!canonical) {
        QTimer::singleShot(0, context, [done, e = canonical.error()] { done(e); });
        return;
    }
    ServerSession *s = m_sessions.value(ResourceUri::toString(canonical.value()));
    if (!s) {
        QTimer::singleShot(0, context, [done] { done(false); }); // nothing to sign out of
        return;
    }
    if (s->login)
        s->login->cancel();
    ensureLoaded(s, context, [this, s, context, done](Result<TokenSet> loaded) {
        if (!loaded) {
            done(loaded.error()); // keychain locked: nothing deleted, say so
            return;
        }
        const std::optional<ClientRegistration> client = clientFor(s);
        if (s->tokenState != ServerSession::TokenState::Present || !s->discovery || !client) {
            // Answered once the keychain entry is gone: "signed out" means nothing is left.
            dropTokens(s, QStringLiteral("signed out"), Lost::No, [done] { done(false); });
            return;
        }
        // RFC 7009 §2.1: revoking the refresh token ends the grant; otherwise revoke the access token.
        const bool useRefresh = s->tokens.hasRefreshToken();
        const QString token = useRefresh ? s->tokens.refreshToken : s->tokens.accessToken;
        const QString hint = useRefresh ? QStringLiteral("refresh_token") : QStringLiteral("access_token");
        s->activity = ServerSession::Activity::SigningOut;
        publish(s);
        // The session, not the caller, owns the revocation: it must finish even if the caller leaves.
        m_tokenClient->revoke(s->discovery->metadata, *client, token, hint, s,
                              [this, s, done, context = QPointer<QObject>(context)](Result<bool> revoked) {
                                  s->activity = ServerSession::Activity::Idle;
                                  if (!revoked)
                                      qCWarning(lcTokens) << "revocation failed:" << revoked.error().message;
                                  dropTokens(s, QStringLiteral("signed out"), Lost::No,
                                             [done, context, revoked] {
                                                 if (context)
                                                     done(revoked ? revoked.value() : false);
                                             });
                              });
    });
}

std::optional<ClientRegistration> AuthEngine::clientFor(const ServerSession *s) const
{
    // The same choice the sign-in made: the configuration and the issuer decide it.
    if (!s->discovery)
        return std::nullopt;
    Result<std::optional<ClientRegistration>> client = selectClient(s->resourceString(), *s->discovery);
    return client ? client.value() : std::nullopt;
}

Result<std::optional<ClientRegistration>> AuthEngine::selectClient(const QString &resource,
                                                                   const DiscoveryResult &d) const
{
    return m_clients->select(resource, d);
}

const ServerConfig *AuthEngine::configFor(const QString &resource) const
{
    return m_clients->config(resource);
}

QString AuthEngine::resourceParam(const ServerSession *s) const
{
    // RFC 8707: the configured override replaces it in every token request too; otherwise the
    // same `resource` the sign-in sent (the metadata's, as published).
    const ServerConfig *config = configFor(s->resourceString());
    if (config && !config->resourceOverride.isEmpty())
        return config->resourceOverride;
    return s->discovery ? s->discovery->resourceIndicator() : s->resourceString();
}

void AuthEngine::configure(const QUrl &mcpUrl, const ServerConfig &config, QObject *context,
                           StatusCallback done)
{
    const Result<QUrl> canonical = ResourceUri::canonical(mcpUrl);
    if (!canonical) {
        QTimer::singleShot(0, context, [done, e = canonical.error()] { done(e); });
        return;
    }
    const QString resource = ResourceUri::toString(canonical.value());
    m_clients->configure(resource, config, this,
                         [this, context = QPointer<QObject>(context), done](Status st) {
                             if (st)
                                 persist();
                             if (context)
                                 done(st);
                         });
}

ServerConfig AuthEngine::configuration(const QUrl &mcpUrl) const
{
    const Result<QUrl> canonical = ResourceUri::canonical(mcpUrl);
    const ServerConfig *config = canonical ? configFor(ResourceUri::toString(canonical.value())) : nullptr;
    return config ? *config : ServerConfig{};
}

void AuthEngine::addPreRegisteredClient(const ClientRegistration &client)
{
    m_clients->addPreRegistered(client);
}

std::optional<ServerStatus> AuthEngine::statusOf(const ServerSession *s, qint64 now) const
{
    // The state file's record answers for tokens not read from the keychain yet.
    return s->status(m_state[kServers].value(toStd(s->resourceString()), Json::object()), now);
}

// The one place a server's state is published (issue 9.1): every change of it, whatever caused
// it, leaves through serverChanged() once, with the status servers() gives from now on.
void AuthEngine::publish(ServerSession *s)
{
    ++m_generation;
    const qint64 now = m_clock.now();
    std::optional<ServerStatus> st = statusOf(s, now);
    // SignedIn turns Expired at the token's expiry with nothing else happening: look again then.
    if (st && st->state == ServerState::SignedIn && st->expiresAt > now)
        s->expiryTick.start(std::chrono::seconds(std::min<qint64>(st->expiresAt - now + 1, 24 * 3600)));
    else
        s->expiryTick.stop();
    if (st == s->published)
        return;
    s->published = st;
    if (st)
        Q_EMIT serverChanged(*st);
    else
        Q_EMIT serverRemoved(s->resourceString());
}

QList<ServerStatus> AuthEngine::servers() const
{
    QList<ServerStatus> out;
    const qint64 now = m_clock.now();
    for (const ServerSession *s : m_sessions)
        if (std::optional<ServerStatus> st = statusOf(s, now))
            out << *st;
    std::sort(out.begin(), out.end(),
              [](const ServerStatus &a, const ServerStatus &b) { return a.resource < b.resource; });
    return out;
}

QString AuthEngine::secretStoreName() const
{
    return m_secrets.backendName();
}

bool AuthEngine::secretsPersistent() const
{
    return m_secrets.isPersistent();
}

void AuthEngine::checkSecrets(QObject *context, StatusCallback done, int timeoutMs)
{
    m_secrets.probe(
        context,
        [done](Status st) {
            if (!st)
                qCWarning(lcStorage) << "keychain check failed:" << st.error().message;
            done(st);
        },
        timeoutMs);
}

void AuthEngine::saveRecord(ServerSession *s)
{
    Json rec = Json::object();
    rec["mcpUrl"] = toStd(s->mcpUrl.toString());
    rec["issuer"] = toStd(s->issuer);
    rec["signedIn"] = s->tokenState == ServerSession::TokenState::Present;
    rec["expiresAt"] = s->tokens.expiresAt;
    rec["scope"] = toStd(s->tokens.scope);
    rec["refreshable"] = s->tokens.hasRefreshToken();
    if (s->signInRequired)
        rec["signInRequired"] = true;
    if (s->discovery)
        rec["discovery"] = s->discovery->toJson();
    m_state[kServers][toStd(s->resourceString())] = rec;
    persist();
}

void AuthEngine::persist()
{
    // Only the engine's own keys: the approvals keep theirs in the same file.
    const Status st = m_stateFile.update([this](Json &document) {
        document[kServers] = m_state[kServers];
        m_clients->saveInto(document);
    });
    if (!st)
        qCWarning(lcStorage) << "could not save state:" << st.error().message;
}

QString AuthEngine::tokenKey(const ServerSession *s) const
{
    // Tokens are kept per (resource, issuer, account); one account per server for now.
    return QStringLiteral("tokens|%1|%2|default").arg(s->resourceString(), s->issuer);
}

} // namespace mcpauth

#include "moc_AuthEngine.cpp"
