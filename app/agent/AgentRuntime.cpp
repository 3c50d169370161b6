#include "AgentRuntime.h"

#include "BrowserLauncher.h"
#include "InstanceLock.h"
#include "KeychainSecretStore.h"
#include "PlatformLocalStream.h"
#include "PlatformPeerIdentity.h"
#include "TerminationSignals.h"
#include "approvals/ApprovalGate.h"
#include "audit/AuditLog.h"
#include "broker/AgentService.h"
#include "broker/BrokerServer.h"
#include "broker/SocketPath.h"
#include "common/Log.h"
#include "engine/AuthEngine.h"
#include "storage/MemorySecretStore.h"
#include "storage/StateFile.h"
#include "storage/UserSettings.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QTimer>

namespace mcpauth {

namespace {
// MCP_AUTH_HTTP_TIMEOUT_MS shortens (or lengthens) the per-request timeout, e.g. for tests of
// servers that never answer. Out-of-range values are ignored.
HttpClient::Options httpOptions()
{
    HttpClient::Options o;
    bool ok = false;
    const int ms = qEnvironmentVariableIntValue("MCP_AUTH_HTTP_TIMEOUT_MS", &ok);
    if (ok && ms >= 100 && ms <= 300'000)
        o.timeoutMs = ms;
    return o;
}
} // namespace

AgentRuntime::AgentRuntime(QString socketPath, QObject *parent)
    : QObject(parent), m_socketPath(std::move(socketPath)), m_http(&m_nam, httpOptions())
{
    m_signals = new TerminationSignals(this);
    connect(m_signals, &TerminationSignals::terminationRequested, this, [this](int sig) {
        qCInfo(lcBroker) << "signal" << sig << "- shutting down";
        stop(0);
    });
}

AgentRuntime::~AgentRuntime()
{
    if (m_server)
        m_server->close();
}

void AgentRuntime::start()
{
    m_identity = createPeerIdentityProvider();
    const Status dir = SocketPath::prepareDirectory(m_socketPath, m_identity->currentUid());
    if (!dir) {
        qCCritical(lcBroker).noquote() << dir.error().message;
        return stop(1);
    }
    // One agent per socket: a second one (say, two CLIs starting one at once) leaves quietly.
    m_lock = std::make_unique<InstanceLock>(m_socketPath + QStringLiteral(".lock"));
    if (!m_lock->tryLock()) {
        qCInfo(lcBroker) << "another agent is already running for" << m_socketPath;
        return stop(0);
    }

    m_keychain = std::make_unique<KeychainSecretStore>();
    // A keychain that never answers (locked, no D-Bus) must not stall start-up: 15 s at most.
    m_keychain->probe(
        this,
        [this](Status st) {
            if (st)
                return startEngine(*m_keychain, true, QString());
            const QString why = st.error().message;
            qCWarning(lcStorage).noquote()
                << "no keychain:" << why << "- tokens are kept in memory only until the agent exits";
            m_memory = std::make_unique<MemorySecretStore>();
            startEngine(*m_memory, false, why);
        },
        15'000);
}

void AgentRuntime::startEngine(SecretStore &store, bool keychainOk, const QString &keychainDetail)
{
    m_stateFile = std::make_unique<StateFile>(StateFile::defaultPath());
    m_browser = std::make_unique<BrowserLauncher>();
    AuthEngine::Options options;
    m_engine = std::make_unique<AuthEngine>(m_http, m_clock, store, *m_stateFile, *m_browser, options);
    m_server = std::make_unique<BrokerServer>(*m_identity);
    m_server->setStreamFactory(&adoptLocalStream);
    m_service = std::make_unique<AgentService>(*m_engine, *m_server);
    m_service->setKeychainStatus(keychainOk, keychainDetail);
    connect(m_service.get(), &AgentService::shutdownRequested, this, [this] { stop(0); });

    m_engine->start(this, [this](Status st) {
        if (!st)
            qCWarning(lcEngine) << "engine start:" << st.error().message;
        // The state file is loaded now: the approvals read their grants from it.
        const UserSettings settings = UserSettings::load(UserSettings::defaultPath());
        for (const QString &warning : settings.warnings)
            qCWarning(lcBroker).noquote() << warning;
        m_approvals = std::make_shared<ApprovalGate>(
            *m_stateFile, m_clock,
            ApprovalGate::Options{settings.approvalsRequired, settings.approvalTimeoutSeconds});
        m_service->setApprovals(m_approvals);
        m_audit = std::make_unique<AuditLog>(AuditLog::defaultPath(), m_clock, AuditLog::Options{});
        m_approvals->setAudit(m_audit.get());
        m_service->setAudit(m_audit.get());
        connect(m_engine.get(), &AuthEngine::refreshed, m_audit.get(),
                [audit = m_audit.get()](const QString &resource, const QString &issuer, const QString &scope,
                                        const QString &outcome) {
                    audit->record(QStringLiteral("refresh"), Json{{"server", toStd(resource)},
                                                                  {"issuer", toStd(issuer)},
                                                                  {"scopes", toStd(scope)},
                                                                  {"outcome", toStd(outcome)}});
                });
        if (!settings.approvalsRequired)
            qCInfo(lcBroker) << "approvals are off (settings): every app of this user gets tokens";
        const Status listening = m_server->listen(m_socketPath);
        if (!listening) {
            qCCritical(lcBroker).noquote()
                << "cannot listen on" << m_socketPath << ":" << listening.error().message;
            return stop(listening.error().code == QLatin1String("agent_running") ? 0 : 1);
        }
        qCInfo(lcBroker).noquote() << "mcp-auth-agent" << MCPAUTH_VERSION << "listening on" << m_socketPath;
        Q_EMIT ready();
    });
}

void AgentRuntime::stop(int exitCode)
{
    if (m_server)
        m_server->close();
    QTimer::singleShot(0, qApp, [exitCode] { QCoreApplication::exit(exitCode); });
}

} // namespace mcpauth
