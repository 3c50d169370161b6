#pragma once

#include "approvals/AppHasher.h"
#include "approvals/Grants.h"
#include "broker/AccessGate.h"
#include "common/Json.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <memory>

namespace mcpauth {

class AuditLog;
class Clock;
class StateFile;

/// The user's say over which app may act for them at which server (issue 8; 1Password's SSH agent
/// and KeePassXC ask the same way). The first time an app asks for a server's token or sign-in,
/// the request waits for a decision:
///   - Once: this request (and those waiting with it) goes ahead; nothing is remembered;
///   - WhileRunning: until the app's process exits;
///   - Always: remembered in the state file, keyed on the app (its Flatpak/snap id, or its path and
///     the SHA-256 of its binary, so a replaced binary is asked about again);
///   - Deny, or no answer within the timeout: the request fails with reason "user" / "timeout".
/// Requests of one app for one server share one pending decision. An app cannot decide its own.
/// The hot path (an app with a grant) is two hash lookups and no disk: uses are counted in memory
/// and written at most once a minute.
class ApprovalGate : public QObject, public AccessGate
{
    Q_OBJECT
public:
    enum class Decision { Once, WhileRunning, Always, Deny };
    Q_ENUM(Decision)
    struct Options
    {
        bool required = true;
        int timeoutSeconds = 60;
    };

    /// `state` must have been loaded (the engine does that first) and outlive the gate.
    ApprovalGate(StateFile &state, const Clock &clock, Options options, QObject *parent = nullptr);
    ~ApprovalGate() override;

    void check(const AccessRequest &request, QObject *context, AccessGate::Answer done) override;
    bool allowsNow(const AccessRequest &request) override;

    /// Pending requests, oldest first: {id, app, executable, appKey, server, scopes, pid,
    /// processChain, requestedAt, expiresAt, waiting}.
    Json pending() const;
    /// Decides the pending request `id`. `decider` is who decides (an app may not decide for itself).
    Status decide(const QString &id, Decision decision, const AppIdentity &decider);
    Json grants() const;
    /// Removes the grant `id`, or every grant of the app (its path or key) for `server` (any server
    /// when empty). Returns how many went.
    int revoke(const QString &id, const QString &app, const QString &server);

    static std::optional<Decision> decisionFromName(const QString &name);
    /// Where approvals asked and decided, and grants revoked, are recorded; none by default.
    void setAudit(AuditLog *audit) { m_audit = audit; }
    /// The SHA-256 of `app`'s binary when it is known already (for the audit log), else empty.
    QString knownHash(const AppIdentity &app) const { return m_hasher.cached(app.fingerprint); }
    const Options &options() const { return m_options; }

Q_SIGNALS:
    /// A request started waiting, or stopped (decided, timed out, its caller left).
    void pendingChanged();
    void grantsChanged();

private:
    struct Waiter
    {
        QPointer<QObject> context;
        AccessGate::Answer done;
    };
    struct Pending
    {
        QString id;
        QString key; ///< app key, hash, server
        AppIdentity app;
        QString sha256;
        QString server;
        QString scopes;
        QStringList processChain;
        qint64 requestedAt = 0;
        QList<Waiter> waiters;
        QTimer *timer = nullptr;
    };

    void withHash(const AccessRequest &request, QObject *context, AccessGate::Answer done);
    void decideNow(const AccessRequest &request, const QString &sha256, QObject *context,
                   AccessGate::Answer done);
    /// The standing grant for (app, binary, server), its use counted; false when there is none.
    bool useGrant(const AppIdentity &app, const QString &sha256, const QString &server);
    void finish(const QString &id, const Status &outcome);
    void dropWaitersOf(QObject *context);
    void watchExit(const Grant &grant);
    void saveGrants();
    void markUsed();

    void audit(const QString &event, const Pending &p, Json fields);

    AuditLog *m_audit = nullptr;
    StateFile &m_state;
    const Clock &m_clock;
    Options m_options;
    AppHasher m_hasher;
    GrantStore m_grants;
    QHash<QString, Pending> m_pending; ///< by id
    QHash<QString, QString> m_pendingByKey;
    QTimer m_flush; ///< writes use counts, at most once a minute
    bool m_dirty = false;
};

} // namespace mcpauth
