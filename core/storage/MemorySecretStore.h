#pragma once

#include "storage/SecretStore.h"

#include <QHash>

namespace mcpauth {

/// SecretStore that keeps secrets in this process only: the fallback when no keychain answers
/// (design.md "Storage": keep tokens in memory for the agent's lifetime) and the store unit tests
/// inject. Callbacks are always delivered on the event loop, never from inside the call, so callers
/// see the same ordering as with a real keychain. setFailing(true) makes every call fail with
/// Error::keychain, to simulate a locked or absent keychain.
class MemorySecretStore : public SecretStore
{
    Q_OBJECT
public:
    explicit MemorySecretStore(QObject *parent = nullptr);

    void read(const QString &key, QObject *context, ReadCallback done) override;
    void write(const QString &key, const QByteArray &secret, QObject *context, StatusCallback done) override;
    void remove(const QString &key, QObject *context, StatusCallback done) override;
    QString backendName() const override;
    bool isPersistent() const override;

    /// Test hook: while true, every call fails with Error::keychain.
    void setFailing(bool failing);
    /// Number of entries held (tests).
    qsizetype size() const;

private:
    template<typename Callback, typename Value> void deliver(QObject *context, Callback done, Value value);
    static Error failure();

    QHash<QString, QByteArray> m_secrets;
    bool m_failing = false;
};

} // namespace mcpauth
