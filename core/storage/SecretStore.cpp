#include "storage/SecretStore.h"

#include <QPointer>
#include <QRandomGenerator>
#include <QTimer>

#include <memory>

namespace mcpauth {

void SecretStore::probe(QObject *context, StatusCallback done, int timeoutMs)
{
    // Whichever comes first, the store's answer or the deadline, settles the probe.
    auto settled = std::make_shared<bool>(false);
    auto finish = [settled, done](Status st) {
        if (!std::exchange(*settled, true))
            done(std::move(st));
    };
    QTimer::singleShot(timeoutMs, context, [finish, timeoutMs] {
        finish(Error::keychain(QStringLiteral("the system keychain did not answer within %1 s (is it "
                                              "locked, or its service gone?)")
                                   .arg(timeoutMs / 1000)));
    });
    // A random key so concurrent agents (or a crashed earlier probe) never collide.
    const QString key =
        QStringLiteral("probe-%1").arg(QRandomGenerator::global()->generate64(), 16, 16, QLatin1Char('0'));
    QPointer<SecretStore> self(this);
    write(key, QByteArrayLiteral("probe"), context, [self, key, context, finish](Status written) {
        if (!written || !self) {
            finish(std::move(written));
            return;
        }
        self->remove(key, context, finish);
    });
}

} // namespace mcpauth

#include "moc_SecretStore.cpp"
