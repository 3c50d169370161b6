#include "storage/SecretStore.h"

#include <QPointer>
#include <QRandomGenerator>

namespace mcpauth {

void SecretStore::probe(QObject *context, StatusCallback done)
{
    // A random key so concurrent agents (or a crashed earlier probe) never collide.
    const QString key =
        QStringLiteral("probe-%1").arg(QRandomGenerator::global()->generate64(), 16, 16, QLatin1Char('0'));
    QPointer<SecretStore> self(this);
    write(key, QByteArrayLiteral("probe"), context, [self, key, context, done](Status written) {
        if (!written || !self) {
            done(std::move(written));
            return;
        }
        self->remove(key, context, done);
    });
}

} // namespace mcpauth
