#include "approvals/AppHasher.h"

#include "common/Log.h"

#include <QCryptographicHash>
#include <QFile>
#include <QMetaObject>
#include <QThreadPool>

#include <algorithm>

namespace mcpauth {

AppHasher::AppHasher(QObject *parent) : QObject(parent) {}

AppHasher::~AppHasher()
{
    // Workers post back to this object; none may outlive it.
    QThreadPool::globalInstance()->waitForDone();
}

void AppHasher::hash(const AppIdentity &app, QObject *context, Done done)
{
    if (app.binaryPath.isEmpty() || app.fingerprint.isEmpty())
        return done(
            Error::security(QStringLiteral("app_unreadable"),
                            QStringLiteral("the binary of %1 cannot be read").arg(app.displayName())));
    if (const auto it = m_cache.constFind(app.fingerprint); it != m_cache.constEnd())
        return done(*it);
    const bool started = m_running.contains(app.fingerprint);
    m_running[app.fingerprint].append(Waiter{context, std::move(done), app.process});
    if (started)
        return;
    const QString path = app.binaryPath;
    const QString fingerprint = app.fingerprint;
    QPointer<AppHasher> self(this);
    QThreadPool::globalInstance()->start([self, path, fingerprint] {
        QString hex;
        QString error;
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            error = file.errorString();
        } else if (file.size() > maxBytes) {
            error = QStringLiteral("larger than %1 bytes").arg(maxBytes);
        } else {
            QCryptographicHash sha(QCryptographicHash::Sha256);
            if (sha.addData(&file))
                hex = QString::fromLatin1(sha.result().toHex());
            else
                error = QStringLiteral("read error");
        }
        if (self)
            QMetaObject::invokeMethod(
                self,
                [self, fingerprint, hex, error] {
                    if (self)
                        self->finished(fingerprint, hex, error);
                },
                Qt::QueuedConnection);
    });
}

void AppHasher::finished(const QString &fingerprint, const QString &hex, const QString &error)
{
    const QList<Waiter> waiters = m_running.take(fingerprint);
    // A process that still runs ran all along, so its exe link named its own binary throughout.
    const bool someAlive = std::any_of(waiters.begin(), waiters.end(),
                                       [](const Waiter &w) { return !w.process || w.process->alive(); });
    if (hex.isEmpty())
        qCWarning(lcBroker).noquote() << "could not hash an app's binary:" << error;
    else if (someAlive && m_cache.size() < maxCached)
        m_cache.insert(fingerprint, hex);
    for (const Waiter &w : waiters) {
        if (!w.context)
            continue;
        // The link named the app's binary only while the app ran; a hash read after it exited
        // could be another process's.
        if (hex.isEmpty() || (w.process && !w.process->alive()))
            w.done(Error::security(QStringLiteral("app_unreadable"),
                                   QStringLiteral("the app's binary could not be read (%1)")
                                       .arg(hex.isEmpty() ? error : QStringLiteral("the app exited"))));
        else
            w.done(hex);
    }
}

} // namespace mcpauth

#include "moc_AppHasher.cpp"
