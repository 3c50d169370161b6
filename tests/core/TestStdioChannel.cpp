#include "proxy/StdioChannel.h"

#include <QSignalSpy>
#include <QTest>

#include <fcntl.h>
#include <unistd.h>

using namespace mcpauth;

/// Runs the channel on two pipes in place of stdin/stdout.
class TestStdioChannel : public QObject
{
    Q_OBJECT
private:
    int m_in[2] = {-1, -1};
    int m_out[2] = {-1, -1};
    FILE *m_inFile = nullptr;
    FILE *m_outFile = nullptr;
    QByteArray m_received;

    void send(const QByteArray &bytes)
    {
        qsizetype done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::write(m_in[1], bytes.constData() + done, size_t(bytes.size() - done));
            QVERIFY(n > 0);
            done += n;
        }
    }
    /// Lines the channel wrote so far, parsed.
    QList<Json> output()
    {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(m_out[0], buf, sizeof buf)) > 0)
            m_received.append(buf, n);
        QList<Json> out;
        for (const QByteArray &line : m_received.split('\n'))
            if (!line.isEmpty())
                out << Json::parse(line.constBegin(), line.constEnd(), nullptr, false);
        return out;
    }

private Q_SLOTS:
    void init()
    {
        QCOMPARE(::pipe(m_in), 0);
        QCOMPARE(::pipe(m_out), 0);
        QCOMPARE(::fcntl(m_out[0], F_SETFL, O_NONBLOCK), 0);
        m_inFile = ::fdopen(m_in[0], "r");
        m_outFile = ::fdopen(m_out[1], "w");
        m_received.clear();
    }
    void cleanup()
    {
        if (m_in[1] >= 0)
            ::close(m_in[1]);
        m_in[1] = -1;
        std::fclose(m_inFile);
        std::fclose(m_outFile);
        ::close(m_out[0]);
    }

    void relaysMessagesAndAnswersBadLines()
    {
        StdioChannel channel(m_inFile, m_outFile);
        QSignalSpy messages(&channel, &StdioChannel::messageReceived);
        QSignalSpy closed(&channel, &StdioChannel::hostClosed);
        channel.start();
        send(toBytes(Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}) + "\n\nnot json\n[1,2]\n" +
             toBytes(Json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}) + "\r\n");
        QTRY_COMPARE(messages.size(), 2);
        QCOMPARE(jsonString(messages.at(0).at(0).value<Json>(), "method"), QStringLiteral("ping"));
        QCOMPARE(jsonString(messages.at(1).at(0).value<Json>(), "method"),
                 QStringLiteral("notifications/initialized"));
        const QList<Json> out = output();
        QCOMPARE(out.size(), 2);
        QCOMPARE(out.at(0)["error"].value("code", 0), -32700);
        QVERIFY(out.at(0)["id"].is_null());
        QCOMPARE(out.at(1)["error"].value("code", 0), -32600);

        channel.write(Json{{"jsonrpc", "2.0"}, {"id", 1}, {"result", Json::object()}});
        QCOMPARE(output().size(), 3);
        QCOMPARE(output().at(2).value("id", 0), 1);

        QCOMPARE(closed.size(), 0);
        ::close(m_in[1]);
        m_in[1] = -1;
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(messages.size(), 2);
    }

    void oversizedLineIsSkipped()
    {
        StdioChannel channel(m_inFile, m_outFile);
        QSignalSpy messages(&channel, &StdioChannel::messageReceived);
        channel.start();
        const QByteArray big =
            toBytes(Json{{"id", 1},
                         {"method", "x"},
                         {"params", {{"p", std::string(StdioChannel::maxLineBytes, 'a')}}}}) +
            '\n';
        send(big);
        send(toBytes(Json{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "ping"}}) + '\n');
        QTRY_COMPARE(messages.size(), 1);
        QCOMPARE(messages.first().at(0).value<Json>().value("id", 0), 2);
        const QList<Json> out = output();
        QCOMPARE(out.size(), 1);
        QCOMPARE(out.first()["error"].value("code", 0), -32700);
    }

    // Issue 6.3: a host line nested a million deep is a parse error for that line only.
    void deepLineIsAParseError()
    {
        StdioChannel channel(m_inFile, m_outFile);
        QSignalSpy messages(&channel, &StdioChannel::messageReceived);
        channel.start();
        const QByteArray deep =
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{\"p\":" + QByteArray(1'000'000, '[') +
            QByteArray(1'000'000, ']') + "}}\n";
        send(deep);
        send(toBytes(Json{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "ping"}}) + '\n');
        QTRY_COMPARE(messages.size(), 1);
        QCOMPARE(messages.first().at(0).value<Json>().value("id", 0), 2);
        const QList<Json> out = output();
        QCOMPARE(out.size(), 1);
        QCOMPARE(out.first()["error"].value("code", 0), -32700);
        QVERIFY(out.first()["error"].value("message", std::string()).find("nested") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestStdioChannel)
#include "TestStdioChannel.moc"
