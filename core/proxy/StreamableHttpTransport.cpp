#include "proxy/StreamableHttpTransport.h"

#include <QTimer>

namespace mcpauth {

StreamableHttpTransport::StreamableHttpTransport(QNetworkAccessManager *, QUrl,
                                                 QList<QPair<QByteArray, QByteArray>>, QObject *parent)
    : McpTransport(parent)
{}

void StreamableHttpTransport::send(const Json &message)
{
    QTimer::singleShot(0, this, [this, message] {
        Q_EMIT sendFailed(message,
                          Error::config(QStringLiteral("transport_unsupported"),
                                        QStringLiteral("this build has no StreamableHttpTransport yet")));
    });
}

void StreamableHttpTransport::close()
{
    QTimer::singleShot(0, this, [this] { Q_EMIT closed(); });
}

} // namespace mcpauth
