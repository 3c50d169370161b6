#pragma once

#include "common/Json.h"

#include <QLocalSocket>
#include <QTest>

namespace mcpauth::test {

/// A test-side local socket client for line-framed JSON-RPC: writes raw bytes or JSON objects, collects
/// every line the server sends, and records whether the server hung up. Header-only, no signals.
class LocalLineClient
{
public:
    LocalLineClient()
    {
        QObject::connect(&socket, &QLocalSocket::readyRead, &socket, [this] { collect(); });
    }

    bool connectTo(const QString &path, int timeoutMs = 3000)
    {
        socket.connectToServer(path);
        return QTest::qWaitFor([&] { return socket.state() == QLocalSocket::ConnectedState; }, timeoutMs);
    }
    void sendRaw(const QByteArray &bytes)
    {
        socket.write(bytes);
        socket.flush();
    }
    void send(const Json &message) { sendRaw(toBytes(message) + '\n'); }

    /// Wait until at least `n` lines have arrived in total.
    bool waitForLines(qsizetype n, int timeoutMs = 3000)
    {
        return QTest::qWaitFor([&] { return lines.size() >= n; }, timeoutMs);
    }
    /// Line `i` parsed as JSON (discarded value when it is not JSON).
    Json message(qsizetype i) const
    {
        const QByteArray &line = lines.at(i);
        return Json::parse(line.constBegin(), line.constEnd(), nullptr, false);
    }
    Json last() const { return message(lines.size() - 1); }
    bool waitForDisconnect(int timeoutMs = 3000)
    {
        return QTest::qWaitFor([&] { return socket.state() == QLocalSocket::UnconnectedState; }, timeoutMs);
    }

    QLocalSocket socket;
    QList<QByteArray> lines;

private:
    void collect()
    {
        buffer += socket.readAll();
        for (qsizetype nl; (nl = buffer.indexOf('\n')) >= 0;) {
            lines << buffer.left(nl);
            buffer.remove(0, nl + 1);
        }
    }
    QByteArray buffer;
};

} // namespace mcpauth::test
