#pragma once

#include "common/Clock.h"
#include "common/Result.h"
#include "net/HttpClient.h"

#include <QNetworkAccessManager>
#include <QObject>

#include <memory>

namespace mcpauth {

class AgentService;
class ApprovalGate;
class AuditLog;
class AuthEngine;
class BrokerServer;
class BrowserLauncher;
class InstanceLock;
class KeychainSecretStore;
class MemorySecretStore;
class PeerIdentityProvider;
class SecretStore;
class StateFile;
class TerminationSignals;

/// The agent's composition root: builds every part, starts them in order (keychain probe →
/// engine state → socket), and tears them down on shutdown or a termination signal.
class AgentRuntime : public QObject
{
    Q_OBJECT
public:
    explicit AgentRuntime(QString socketPath, QObject *parent = nullptr);
    ~AgentRuntime() override;

    /// Starts asynchronously; the application exits with a non-zero code if start-up fails.
    void start();
    /// Closes the socket and leaves the event loop with `exitCode`.
    void stop(int exitCode);
    /// Once ready(): the engine and the approvals, for the tray. Null before.
    AuthEngine *engine() const { return m_engine.get(); }
    ApprovalGate *approvals() const { return m_approvals.get(); }

Q_SIGNALS:
    /// Fires once, when the socket listens and every part is up.
    void ready();

private:
    void startEngine(SecretStore &store, bool keychainOk, const QString &keychainDetail);

    QString m_socketPath;
    std::unique_ptr<InstanceLock> m_lock;
    QNetworkAccessManager m_nam;
    HttpClient m_http;
    SystemClock m_clock;
    std::unique_ptr<KeychainSecretStore> m_keychain;
    std::unique_ptr<MemorySecretStore> m_memory;
    std::unique_ptr<StateFile> m_stateFile;
    std::unique_ptr<BrowserLauncher> m_browser;
    std::unique_ptr<PeerIdentityProvider> m_identity;
    std::unique_ptr<AuditLog> m_audit; ///< declared before its users, so it outlives them
    std::unique_ptr<AuthEngine> m_engine;
    std::unique_ptr<BrokerServer> m_server;
    std::unique_ptr<AgentService> m_service;
    std::shared_ptr<ApprovalGate> m_approvals;
    TerminationSignals *m_signals = nullptr;
};

} // namespace mcpauth
