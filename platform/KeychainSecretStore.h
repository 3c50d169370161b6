#pragma once

#include "storage/SecretStore.h"

namespace QKeychain {
class Job;
}

namespace mcpauth {

/// SecretStore backed by the OS keychain through qtkeychain: Secret Service (or KWallet) on Linux,
/// Keychain on macOS, Credential Manager on Windows (design.md "Storage"). Entries live under one
/// service name, keyed by the key string. A keychain that is absent, locked or refuses access gives
/// Error::keychain carrying qtkeychain's explanation; one that does not answer within timeoutMs()
/// gives Error::keychain too, so callers never wait forever on a hung D-Bus service.
class KeychainSecretStore : public SecretStore
{
    Q_OBJECT
public:
    explicit KeychainSecretStore(QString service = QStringLiteral("mcp-auth-agent"),
                                 QObject *parent = nullptr);

    void read(const QString &key, QObject *context, ReadCallback done) override;
    void write(const QString &key, const QByteArray &secret, QObject *context, StatusCallback done) override;
    void remove(const QString &key, QObject *context, StatusCallback done) override;
    QString backendName() const override;
    bool isPersistent() const override;

    const QString &service() const { return m_service; }
    /// How long one keychain call may take before it fails with Error::keychain. Generous by
    /// default: unlocking a keychain can mean the user typing a password into a prompt.
    int timeoutMs() const { return m_timeoutMs; }
    void setTimeoutMs(int ms) { m_timeoutMs = ms; }

private:
    void run(QKeychain::Job *job, const QString &operation, QObject *context,
             std::function<void(QKeychain::Job *)> finished, std::function<void(Error)> failed);

    QString m_service;
    int m_timeoutMs = 120'000;
};

} // namespace mcpauth
