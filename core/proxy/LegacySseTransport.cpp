#include "proxy/LegacySseTransport.h"

#include <QTimer>

namespace mcpauth {

LegacySseTransport::LegacySseTransport(QNetworkAccessManager *, QUrl, QList<QPair<QByteArray, QByteArray>>,
                                       QObject *parent)
    : McpTransport(parent)
{}

void LegacySseTransport::send(const Json &message)
{
    QTimer::singleShot(0, this, [this, message] {
        Q_EMIT sendFailed(message, Error::config(QStringLiteral("transport_unsupported"),
                                                 QStringLiteral("this build has no LegacySseTransport yet")));
    });
}

void LegacySseTransport::close()
{
    QTimer::singleShot(0, this, [this] { Q_EMIT closed(); });
}

} // namespace mcpauth
