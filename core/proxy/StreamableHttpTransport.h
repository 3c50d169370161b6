#pragma once

#include "proxy/McpTransport.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QUrl>

class QNetworkAccessManager;

namespace mcpauth {

/// PLACEHOLDER until the real transport is merged (issue 3, written in parallel): same constructor,
/// every send() fails with "transport_unsupported".
class StreamableHttpTransport : public McpTransport
{
    Q_OBJECT
public:
    StreamableHttpTransport(QNetworkAccessManager *nam, QUrl endpoint,
                            QList<QPair<QByteArray, QByteArray>> extraHeaders, QObject *parent = nullptr);

    void start() override {}
    void send(const Json &message) override;
    void close() override;
    void setAccessToken(const QString &) override {}
};

} // namespace mcpauth
