#include "approvals/ApprovalGate.h"

#include "audit/AuditLog.h"
#include "common/Clock.h"
#include "common/Log.h"
#include "common/Random.h"
#include "discovery/ResourceUri.h"
#include "storage/StateFile.h"

#include <QSocketNotifier>

namespace mcpauth {

namespace {

constexpr const char *kSection = "approvals";
constexpr int kFlushMs = 60'000;
constexpr int kMaxPending = 64;

QString newId(const char *prefix)
{
    return QLatin1String(prefix) + QString::fromLatin1(Random::bytes(4).toHex());
}

/// The server as grants name it: its canonical resource URI (so `/mcp` and `/mcp/` are one server).
QString serverKey(const QUrl &resource)
{
    const Result<QUrl> canonical = ResourceUri::canonical(resource);
    return canonical ? ResourceUri::toString(canonical.value()) : resource.toString();
}

/// The server a request is for, as grants and pending entries key it.
QString serverOf(const AccessRequest &request)
{
    return request.server.isEmpty() ? serverKey(request.resource) : request.server;
}

bool needsHash(const AppIdentity &app)
{
    return app.flatpakId.isEmpty() && app.snapName.isEmpty();
}

} // namespace

ApprovalGate::ApprovalGate(StateFile &state, const Clock &clock, Options options, QObject *parent)
    : QObject(parent), m_state(state), m_clock(clock), m_options(options)
{
    const Json doc = m_state.document(); // loaded by the engine already: no second read
    m_grants.load(doc.contains(kSection) ? doc[kSection] : Json());
    m_flush.setInterval(kFlushMs);
    m_flush.setSingleShot(true);
    connect(&m_flush, &QTimer::timeout, this, &ApprovalGate::saveGrants);
}

ApprovalGate::~ApprovalGate()
{
    if (m_dirty)
        saveGrants();
    // Whoever still waits is told, not left hanging (the agent is going away).
    const QStringList ids = m_pending.keys();
    for (const QString &id : ids)
        finish(id,
               Error::approvalDenied(QStringLiteral("user"), QStringLiteral("the agent is shutting down")));
}

std::optional<ApprovalGate::Decision> ApprovalGate::decisionFromName(const QString &name)
{
    if (name == QLatin1String("once"))
        return Decision::Once;
    if (name == QLatin1String("while-running"))
        return Decision::WhileRunning;
    if (name == QLatin1String("always"))
        return Decision::Always;
    if (name == QLatin1String("deny"))
        return Decision::Deny;
    return std::nullopt;
}

void ApprovalGate::check(const AccessRequest &request, QObject *context, AccessGate::Answer done)
{
    if (!m_options.required)
        return done(okStatus());
    const AppIdentity &app = request.caller.app;
    if (!app.isKnown())
        return done(Error::approvalDenied(
            QStringLiteral("identity"),
            QStringLiteral("the agent cannot tell which app is asking (pid %1)").arg(request.caller.pid)));
    if (!needsHash(app))
        return decideNow(request, QString(), context, std::move(done));
    withHash(request, context, std::move(done));
}

bool ApprovalGate::allowsNow(const AccessRequest &request)
{
    if (!m_options.required)
        return true;
    const AppIdentity &app = request.caller.app;
    if (!app.isKnown())
        return false;
    QString sha256;
    if (needsHash(app) && (sha256 = knownHash(app)).isEmpty())
        return false;
    return useGrant(app, sha256, serverOf(request));
}

bool ApprovalGate::useGrant(const AppIdentity &app, const QString &sha256, const QString &server)
{
    Grant *grant = m_grants.find(app, sha256, server);
    if (!grant)
        return false;
    grant->lastUsedAt = m_clock.now();
    ++grant->uses;
    markUsed();
    return true;
}

void ApprovalGate::withHash(const AccessRequest &request, QObject *context, AccessGate::Answer done)
{
    QPointer<QObject> ctx(context);
    m_hasher.hash(request.caller.app, context, [this, request, ctx, done](Result<QString> sha) {
        if (!sha)
            return done(Error::approvalDenied(QStringLiteral("identity"), sha.error().message));
        decideNow(request, sha.value(), ctx, done);
    });
}

void ApprovalGate::decideNow(const AccessRequest &request, const QString &sha256, QObject *context,
                             AccessGate::Answer done)
{
    const AppIdentity &app = request.caller.app;
    const QString server = serverOf(request);
    if (useGrant(app, sha256, server))
        return done(okStatus());
    if (!context)
        return; // the caller left while its binary was hashed
    const QString key = app.key() + QLatin1Char('\n') + sha256 + QLatin1Char('\n') + server;
    if (const QString id = m_pendingByKey.value(key); !id.isEmpty()) {
        m_pending[id].waiters.append(Waiter{context, std::move(done)});
        connect(context, &QObject::destroyed, this, [this, context] { dropWaitersOf(context); });
        return;
    }
    if (m_pending.size() >= kMaxPending)
        return done(Error::approvalDenied(QStringLiteral("user"),
                                          QStringLiteral("too many requests are waiting for the user")));
    Pending p;
    p.id = newId("a-");
    p.key = key;
    p.app = app;
    p.sha256 = sha256;
    p.server = server;
    p.scopes = request.scope;
    p.processChain = request.caller.processChain;
    p.requestedAt = m_clock.now();
    p.waiters.append(Waiter{context, std::move(done)});
    p.timer = new QTimer(this);
    p.timer->setSingleShot(true);
    const QString id = p.id;
    connect(p.timer, &QTimer::timeout, this, [this, id] {
        qCInfo(lcBroker).noquote() << "approval" << id << "timed out";
        finish(id, Error::approvalDenied(
                       QStringLiteral("timeout"),
                       QStringLiteral("nobody approved this app within %1 s").arg(m_options.timeoutSeconds)));
    });
    p.timer->start(m_options.timeoutSeconds * 1000);
    connect(context, &QObject::destroyed, this, [this, context] { dropWaitersOf(context); });
    qCInfo(lcBroker).noquote() << QStringLiteral("approval %1: %2 asks for %3 (mcp-auth approve %1)")
                                      .arg(id, app.displayName(), server);
    audit(QStringLiteral("approval.asked"), p, Json::object());
    m_pendingByKey.insert(key, id);
    m_pending.insert(id, std::move(p));
    Q_EMIT pendingChanged();
}

void ApprovalGate::finish(const QString &id, const Status &outcome)
{
    const auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    Pending p = std::move(it.value());
    m_pending.erase(it);
    m_pendingByKey.remove(p.key);
    p.timer->stop();
    p.timer->deleteLater();
    if (!p.waiters.isEmpty())
        audit(QStringLiteral("approval.decided"), p,
              Json{{"outcome", outcome ? "allowed" : "denied"},
                   {"reason", toStd(outcome ? QString() : outcome.error().reason)}});
    for (const Waiter &w : std::as_const(p.waiters))
        if (w.context)
            w.done(outcome);
    Q_EMIT pendingChanged();
}

void ApprovalGate::audit(const QString &event, const Pending &p, Json fields)
{
    if (!m_audit)
        return;
    fields["id"] = toStd(p.id);
    fields["app"] = toStd(p.app.displayName());
    fields["executable"] = toStd(p.app.executable);
    if (!p.sha256.isEmpty())
        fields["sha256"] = toStd(p.sha256);
    fields["server"] = toStd(p.server);
    fields["scopes"] = toStd(p.scopes);
    if (fields.contains("reason") && fields["reason"] == "")
        fields.erase("reason");
    m_audit->record(event, std::move(fields));
}

void ApprovalGate::dropWaitersOf(QObject *context)
{
    QStringList abandoned;
    for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
        it->waiters.removeIf([context](const Waiter &w) { return !w.context || w.context == context; });
        if (it->waiters.isEmpty())
            abandoned << it.key();
    }
    // Nobody waits for these any more: the user is not asked about a request already given up.
    for (const QString &id : std::as_const(abandoned))
        finish(id, okStatus());
}

Status ApprovalGate::decide(const QString &id, Decision decision, const AppIdentity &decider)
{
    const auto it = m_pending.constFind(id);
    if (it == m_pending.constEnd())
        return Error::config(QStringLiteral("invalid_params"),
                             QStringLiteral("no request %1 is waiting for approval").arg(id.left(32)));
    const Pending &p = *it;
    if (decider.isKnown() && decider.key() == p.app.key())
        return Error::approvalDenied(QStringLiteral("identity"),
                                     QStringLiteral("%1 cannot approve its own request").arg(p.app.name()));
    qCInfo(lcBroker).noquote() << "approval" << id
                               << "decided:" << (decision == Decision::Deny ? "deny" : "allow");
    if (m_audit)
        m_audit->record(
            QStringLiteral("approval.decision"),
            Json{{"id", toStd(id)},
                 {"decision", decision == Decision::Deny           ? "deny"
                              : decision == Decision::Once         ? "once"
                              : decision == Decision::WhileRunning ? "while-running"
                                                                   : "always"},
                 {"by", toStd(decider.isKnown() ? decider.displayName() : QStringLiteral("unknown"))}});
    if (decision == Decision::Deny) {
        finish(id,
               Error::approvalDenied(
                   QStringLiteral("user"),
                   QStringLiteral("the user did not allow %1 to use %2").arg(p.app.displayName(), p.server)));
        return okStatus();
    }
    if (decision != Decision::Once) {
        Grant g;
        g.id = newId("g-");
        g.kind = decision == Decision::Always ? Grant::Kind::Always : Grant::Kind::WhileRunning;
        g.appKey = p.app.key();
        g.appName = p.app.name();
        g.executable = p.app.executable;
        g.sha256 = p.sha256;
        g.server = p.server;
        g.scopes = p.scopes;
        g.createdAt = m_clock.now();
        g.pid = p.app.pid;
        g.process = p.app.process;
        if (g.kind == Grant::Kind::WhileRunning && !(g.process && g.process->alive())) {
            // The app is already gone (or cannot be watched): nothing to keep.
        } else {
            const Grant &added = m_grants.add(std::move(g));
            if (added.kind == Grant::Kind::WhileRunning)
                watchExit(added);
            else
                saveGrants();
            Q_EMIT grantsChanged();
        }
    }
    finish(id, okStatus());
    return okStatus();
}

void ApprovalGate::watchExit(const Grant &grant)
{
    const int fd = grant.process ? grant.process->exitDescriptor() : -1;
    if (fd < 0)
        return; // ends on its next use, when find() sees the process gone
    auto *notifier = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    const QString id = grant.id;
    std::shared_ptr<ProcessHandle> keep = grant.process; // the fd stays open while watched
    connect(notifier, &QSocketNotifier::activated, this, [this, notifier, id, keep] {
        notifier->setEnabled(false);
        notifier->deleteLater();
        if (m_grants.removeIf([&](const Grant &g) { return g.id == id; }).first > 0) {
            qCInfo(lcBroker).noquote() << "grant" << id << "ended: the app exited";
            Q_EMIT grantsChanged();
        }
    });
}

Json ApprovalGate::pending() const
{
    QList<const Pending *> list;
    for (const Pending &p : m_pending)
        list << &p;
    std::sort(list.begin(), list.end(),
              [](const Pending *a, const Pending *b) { return a->requestedAt < b->requestedAt; });
    Json out = Json::array();
    for (const Pending *p : list) {
        Json chain = Json::array();
        for (const QString &exe : p->processChain)
            chain.push_back(toStd(exe));
        out.push_back(Json{{"id", toStd(p->id)},
                           {"app", toStd(p->app.displayName())},
                           {"appKey", toStd(p->app.key())},
                           {"executable", toStd(p->app.executable)},
                           {"pid", p->app.pid},
                           {"server", toStd(p->server)},
                           {"scopes", toStd(p->scopes)},
                           {"processChain", chain},
                           {"requestedAt", p->requestedAt},
                           {"expiresAt", p->requestedAt + m_options.timeoutSeconds},
                           {"waiting", p->waiters.size()}});
    }
    return out;
}

Json ApprovalGate::grants() const
{
    Json out = Json::array();
    for (const Grant &g : m_grants.all())
        out.push_back(g.toJson());
    return out;
}

int ApprovalGate::revoke(const QString &id, const QString &app, const QString &server)
{
    const QString serverName = server.isEmpty() ? QString() : serverKey(QUrl(server));
    const auto [removed, always] = m_grants.removeIf([&](const Grant &g) {
        const bool match = !id.isEmpty() ? g.id == id
                                         : (g.executable == app || g.appKey == app || g.appName == app) &&
                                               (serverName.isEmpty() || g.server == serverName);
        if (match && m_audit)
            m_audit->record(QStringLiteral("grant.revoked"), Json{{"id", toStd(g.id)},
                                                                  {"kind", toStd(Grant::kindName(g.kind))},
                                                                  {"app", toStd(g.appName)},
                                                                  {"executable", toStd(g.executable)},
                                                                  {"server", toStd(g.server)}});
        return match;
    });
    if (always)
        saveGrants();
    if (removed > 0)
        Q_EMIT grantsChanged();
    return removed;
}

void ApprovalGate::markUsed()
{
    m_dirty = true;
    if (!m_flush.isActive())
        m_flush.start();
}

void ApprovalGate::saveGrants()
{
    m_dirty = false;
    m_flush.stop();
    const Json section = m_grants.section();
    if (const Status st = m_state.update([&](Json &doc) { doc[kSection] = section; }); !st)
        qCWarning(lcStorage).noquote() << "could not save the approvals:" << st.error().message;
}

} // namespace mcpauth

#include "moc_ApprovalGate.cpp"
