#include "storage/MemorySecretStore.h"

#include <QPointer>
#include <QTimer>

namespace mcpauth {

MemorySecretStore::MemorySecretStore(QObject *parent) : SecretStore(parent) {}

template<typename Callback, typename Value>
void MemorySecretStore::deliver(QObject *context, Callback done, Value value)
{
    // SecretStore contract: callbacks run on the event loop, never synchronously, and not at all once
    // `context` is gone. The value is taken now, so a later write does not change an earlier read.
    QTimer::singleShot(
        0, context ? context : this,
        [done = std::move(done), value = std::move(value)]() mutable { done(std::move(value)); });
}

Error MemorySecretStore::failure()
{
    return Error::keychain(QStringLiteral("the keychain is not available (simulated failure)"));
}

void MemorySecretStore::read(const QString &key, QObject *context, ReadCallback done)
{
    if (m_failing) {
        deliver(context, std::move(done), Result<std::optional<QByteArray>>(failure()));
        return;
    }
    const auto it = m_secrets.constFind(key);
    std::optional<QByteArray> value;
    if (it != m_secrets.constEnd())
        value = *it;
    deliver(context, std::move(done), Result<std::optional<QByteArray>>(std::move(value)));
}

void MemorySecretStore::write(const QString &key, const QByteArray &secret, QObject *context,
                              StatusCallback done)
{
    if (m_failing) {
        deliver(context, std::move(done), Status(failure()));
        return;
    }
    m_secrets.insert(key, secret);
    deliver(context, std::move(done), okStatus());
}

void MemorySecretStore::remove(const QString &key, QObject *context, StatusCallback done)
{
    if (m_failing) {
        deliver(context, std::move(done), Status(failure()));
        return;
    }
    m_secrets.remove(key); // removing a missing entry succeeds (SecretStore contract)
    deliver(context, std::move(done), okStatus());
}

QString MemorySecretStore::backendName() const
{
    return QStringLiteral("memory (not persisted)");
}

bool MemorySecretStore::isPersistent() const
{
    return false;
}

void MemorySecretStore::setFailing(bool failing)
{
    m_failing = failing;
}

qsizetype MemorySecretStore::size() const
{
    return m_secrets.size();
}

} // namespace mcpauth

#include "moc_MemorySecretStore.cpp"
