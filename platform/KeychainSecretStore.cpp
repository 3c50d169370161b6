#include "KeychainSecretStore.h"

#include "common/Log.h"

#include <QPointer>
#include <QTimer>

#include <qt6keychain/keychain.h>

#include <memory>

namespace mcpauth {

namespace {

QString errorName(QKeychain::Error error)
{
    switch (error) {
    case QKeychain::NoError:
        return QStringLiteral("no error");
    case QKeychain::EntryNotFound:
        return QStringLiteral("entry not found");
    case QKeychain::CouldNotDeleteEntry:
        return QStringLiteral("could not delete entry");
    case QKeychain::AccessDeniedByUser:
        return QStringLiteral("access denied by the user");
    case QKeychain::AccessDenied:
        return QStringLiteral("access denied");
    case QKeychain::NoBackendAvailable:
        return QStringLiteral("no keychain service available");
    case QKeychain::NotImplemented:
        return QStringLiteral("not implemented on this platform");
    case QKeychain::OtherError:
        return QStringLiteral("error");
    }
    return QStringLiteral("error");
}

/// The Error for a failed job. qtkeychain's errorString describes the backend's failure (D-Bus
/// name, "locked", ...); it never contains the secret, which is only in the job's data.
Error keychainError(const QString &operation, QKeychain::Job *job)
{
    // "system keychain read failed (access denied): <backend's words>"; for OtherError the backend's
    // words are the whole story.
    QString message = QStringLiteral("system keychain %1 failed").arg(operation);
    if (job->error() != QKeychain::OtherError)
        message += QStringLiteral(" (") + errorName(job->error()) + QLatin1Char(')');
    const QString detail = job->errorString().trimmed();
    message += QStringLiteral(": ") + (detail.isEmpty() ? errorName(job->error()) : detail);
    return Error::keychain(message);
}

} // namespace

KeychainSecretStore::KeychainSecretStore(QString service, QObject *parent)
    : SecretStore(parent), m_service(std::move(service))
{}

void KeychainSecretStore::run(QKeychain::Job *job, const QString &operation, QObject *context,
                              std::function<void(QKeychain::Job *)> finished,
                              std::function<void(Error)> failed)
{
    // Exactly one of `finished` / `failed` runs: whichever of the job's answer and the timeout comes
    // first settles the call; the later one is ignored. Connections to `context` drop both if it dies.
    auto settled = std::make_shared<bool>(false);
    QObject *receiver = context ? context : this;
    job->setAutoDelete(true);

    auto *timer = new QTimer(job); // dies with the job once it has finished
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, receiver, [settled, failed, operation, timeoutMs = m_timeoutMs] {
        if (std::exchange(*settled, true))
            return;
        qCWarning(lcPlatform) << "keychain" << operation << "did not answer within" << timeoutMs << "ms";
        failed(Error::keychain(
            QStringLiteral("system keychain %1 failed: no answer within %2 s (is the keychain "
                           "locked or its service hung?)")
                .arg(operation)
                .arg(timeoutMs / 1000.0)));
    });
    connect(job, &QKeychain::Job::finished, receiver,
            [settled, finished = std::move(finished)](QKeychain::Job *j) {
                if (std::exchange(*settled, true))
                    return;
                finished(j);
            });
    timer->start(m_timeoutMs);
    job->start();
}

void KeychainSecretStore::read(const QString &key, QObject *context, ReadCallback done)
{
    auto *job = new QKeychain::ReadPasswordJob(m_service, this);
    job->setKey(key);
    run(
        job, QStringLiteral("read"), context,
        [done](QKeychain::Job *j) {
            auto *readJob = static_cast<QKeychain::ReadPasswordJob *>(j);
            switch (j->error()) {
            case QKeychain::NoError:
                done(std::optional<QByteArray>(readJob->binaryData()));
                return;
            case QKeychain::EntryNotFound:
                done(std::optional<QByteArray>());
                return;
            default:
                qCWarning(lcPlatform) << "keychain read failed:" << errorName(j->error()) << j->errorString();
                done(keychainError(QStringLiteral("read"), j));
            }
        },
        [done](Error e) { done(std::move(e)); });
}

void KeychainSecretStore::write(const QString &key, const QByteArray &secret, QObject *context,
                                StatusCallback done)
{
    auto *job = new QKeychain::WritePasswordJob(m_service, this);
    job->setKey(key);
    job->setBinaryData(secret);
    run(
        job, QStringLiteral("write"), context,
        [done](QKeychain::Job *j) {
            if (j->error() == QKeychain::NoError) {
                done(okStatus());
                return;
            }
            qCWarning(lcPlatform) << "keychain write failed:" << errorName(j->error()) << j->errorString();
            done(keychainError(QStringLiteral("write"), j));
        },
        [done](Error e) { done(std::move(e)); });
}

void KeychainSecretStore::remove(const QString &key, QObject *context, StatusCallback done)
{
    auto *job = new QKeychain::DeletePasswordJob(m_service, this);
    job->setKey(key);
    run(
        job, QStringLiteral("delete"), context,
        [done](QKeychain::Job *j) {
            // SecretStore contract: removing an entry that does not exist succeeds.
            if (j->error() == QKeychain::NoError || j->error() == QKeychain::EntryNotFound) {
                done(okStatus());
                return;
            }
            qCWarning(lcPlatform) << "keychain delete failed:" << errorName(j->error()) << j->errorString();
            done(keychainError(QStringLiteral("delete"), j));
        },
        [done](Error e) { done(std::move(e)); });
}

QString KeychainSecretStore::backendName() const
{
    // qtkeychain does not say which backend it picked; name the platform's usual one.
#if defined(Q_OS_MACOS)
    return QStringLiteral("macOS Keychain");
#elif defined(Q_OS_WIN)
    return QStringLiteral("Windows Credential Manager");
#else
    return QStringLiteral("Secret Service");
#endif
}

bool KeychainSecretStore::isPersistent() const
{
    return true;
}

} // namespace mcpauth
