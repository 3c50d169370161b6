#pragma once

#include "proxy/McpTransport.h"
#include "proxy/TransportFactory.h"

#include <QList>

namespace mcpauth::test {

/// An McpTransport the test drives: it records every message sent with the token in effect at
/// the time, and the test makes the "server" answer by emitting the transport's signals.
class FakeTransport : public McpTransport
{
    Q_OBJECT
public:
    struct Sent
    {
        Json message;
        QString token;
    };

    explicit FakeTransport(TransportKind kind, QObject *parent = nullptr) : McpTransport(parent), kind(kind)
    {}

    void start() override { ++starts; }
    void send(const Json &message) override { sent.append({message, token}); }
    void close() override
    {
        ++closes;
        if (closeEmitsClosed)
            Q_EMIT closed();
    }
    void setAccessToken(const QString &t) override { token = t; }

    /// The server answers request `id` with `result`.
    void reply(const Json &id, const Json &result)
    {
        Q_EMIT messageReceived(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
    }
    void refuse(const Json &message, int status, const QString &scope = QString(),
                const QString &error = QString())
    {
        BearerChallenge c;
        c.present = true;
        c.scope = scope;
        c.error = error;
        c.resourceMetadata = QUrl(QStringLiteral("http://127.0.0.1:1/.well-known/oauth-protected-resource"));
        Q_EMIT authorizationRequired(message, status, c);
    }

    TransportKind kind;
    QList<Sent> sent;
    QString token;
    int starts = 0;
    int closes = 0;
    bool closeEmitsClosed = true;
};

} // namespace mcpauth::test
