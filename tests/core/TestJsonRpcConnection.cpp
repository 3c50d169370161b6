#include "LocalLineClient.h"
#include "broker/JsonRpcConnection.h"
#include "broker/QtLocalStream.h"
#include "broker/RpcErrors.h"
#ifdef MCPAUTH_TEST_UNIX_STREAM
#include "UnixLocalStream.h"
#endif

#include <QLocalServer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace mcpauth;
using namespace mcpauth::test;
using namespace std::chrono_literals;

/// QCOMPARE cannot take nlohmann::json (its converting constructors confuse QTest's overloads).
#define QCOMPARE_JSON(actual, expected)                                                                      \
    do {                                                                                                     \
        const Json a_ = (actual), e_ = (expected);                                                           \
        QVERIFY2(a_ == e_, qPrintable(QStringLiteral("got %1, expected %2")                                  \
                                          .arg(QString::fromStdString(a_.dump()),                            \
                                               QString::fromStdString(e_.dump()))));                         \
    } while (false)

namespace {
/// The agent's stream in TestJsonRpcConnectionUnix (the same tests, built against the platform's
/// descriptor-level stream), Qt's portable one here.
LocalStream *streamFor(QLocalSocket *socket)
{
#ifdef MCPAUTH_TEST_UNIX_STREAM
    return UnixLocalStream::adopt(socket);
#else
    return new QtLocalStream(socket);
#endif
}

Json request(const Json &id, const char *method, const Json &params = Json::object())
{
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
}
} // namespace

class TestJsonRpcConnection : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QLocalServer *m_server = nullptr;
    std::unique_ptr<LocalLineClient> m_client;
    JsonRpcConnection *m_connection = nullptr;
    std::unique_ptr<QSignalSpy> m_requests;
    std::unique_ptr<QSignalSpy> m_closed;

    /// A connected pair: m_client on the test side, m_connection on the agent side.
    bool connectPair(qsizetype maxLineBytes = 1 << 20)
    {
        m_client = std::make_unique<LocalLineClient>();
        if (!m_client->connectTo(m_server->fullServerName()))
            return false;
        if (!QTest::qWaitFor([&] { return m_server->hasPendingConnections(); }, 3000))
            return false;
        PeerInfo peer;
        peer.known = true;
        peer.uid = 1000;
        peer.pid = 4242;
        peer.processChain = {QStringLiteral("/usr/bin/mcp-auth"), QStringLiteral("/opt/cursor/cursor")};
        m_connection =
            new JsonRpcConnection(streamFor(m_server->nextPendingConnection()), peer, maxLineBytes, this);
        m_requests = std::make_unique<QSignalSpy>(m_connection, &JsonRpcConnection::requestReceived);
        m_closed = std::make_unique<QSignalSpy>(m_connection, &JsonRpcConnection::closed);
        return true;
    }
    void expectError(qsizetype line, int code, const Json &id = Json())
    {
        QVERIFY(m_client->waitForLines(line + 1));
        Json reply = m_client->message(line);
        QVERIFY2(reply.is_object(), m_client->lines.at(line).constData());
        QCOMPARE(reply.value("jsonrpc", ""), std::string("2.0"));
        QVERIFY2(reply.contains("error"), m_client->lines.at(line).constData());
        QCOMPARE(reply["error"]["code"].get<int>(), code);
        QVERIFY(reply["error"]["message"].is_string());
        QCOMPARE_JSON(reply["id"], id);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_server = new QLocalServer(this);
        QVERIFY(m_server->listen(m_dir.filePath(QStringLiteral("s.sock"))));
    }
    void cleanup()
    {
        m_requests.reset();
        m_closed.reset();
        delete m_connection;
        m_connection = nullptr;
        m_client.reset();
    }

    void deliversRequestAndResponse()
    {
        QVERIFY(connectPair());
        QCOMPARE(m_connection->peer().pid, 4242);
        m_client->send(request(7, "token/get", {{"resource", "https://mcp.example.com/"}}));
        QTRY_COMPARE(m_requests->size(), 1);
        const auto args = m_requests->takeFirst();
        QCOMPARE_JSON(args.at(0).value<Json>(), Json(7));
        QCOMPARE(args.at(1).toString(), QStringLiteral("token/get"));
        QCOMPARE_JSON(args.at(2).value<Json>(), Json({{"resource", "https://mcp.example.com/"}}));
        QCOMPARE(m_connection->pendingRequests(), 1);

        m_connection->sendResult(Json(7), Json{{"accessToken", "t"}});
        QVERIFY(m_client->waitForLines(1));
        QCOMPARE_JSON(m_client->message(0),
                      Json({{"jsonrpc", "2.0"}, {"id", 7}, {"result", {{"accessToken", "t"}}}}));
        QCOMPARE(m_connection->pendingRequests(), 0);
    }

    void framing_data()
    {
        QTest::addColumn<QList<QByteArray>>("writes");
        QTest::addColumn<int>("requests");
        const QByteArray a = R"({"jsonrpc":"2.0","id":"a","method":"m"})";
        const QByteArray b = R"({"jsonrpc":"2.0","id":2,"method":"n","params":[1,2]})";
        QTest::newRow("one line") << QList<QByteArray>{a + '\n'} << 1;
        QTest::newRow("crlf") << QList<QByteArray>{a + "\r\n"} << 1;
        QTest::newRow("two lines in one write") << QList<QByteArray>{a + '\n' + b + '\n'} << 2;
        QTest::newRow("split across writes")
            << QList<QByteArray>{a.left(10), a.mid(10) + "\n" + b.left(3), b.mid(3) + '\n'} << 2;
        QTest::newRow("blank lines ignored") << QList<QByteArray>{"\n\r\n  \n" + a + '\n'} << 1;
        QTest::newRow("no newline yet") << QList<QByteArray>{a} << 0;
    }
    void framing()
    {
        QFETCH(QList<QByteArray>, writes);
        QFETCH(int, requests);
        QVERIFY(connectPair());
        for (const QByteArray &w : writes) {
            m_client->sendRaw(w);
            QTest::qWait(10);
        }
        QTRY_COMPARE(m_requests->size(), requests);
        QTest::qWait(20);
        QCOMPARE(m_requests->size(), requests);
        QCOMPARE(m_client->lines.size(), 0); // nothing was malformed
    }

    void notificationGetsNoResponse()
    {
        QVERIFY(connectPair());
        m_client->sendRaw(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})"
                          "\n");
        QTRY_COMPARE(m_requests->size(), 1);
        QVERIFY(m_requests->first().at(0).value<Json>().is_null());
        QCOMPARE(m_connection->pendingRequests(), 0);
        m_connection->sendResult(Json(), Json::object());
        m_connection->sendError(Json(), RpcError::MethodNotFound, QStringLiteral("no"));
        // A later real request's answer is the first line the client sees.
        m_client->send(request(1, "agent/status"));
        QTRY_COMPARE(m_requests->size(), 2);
        m_connection->sendResult(Json(1), Json::object());
        QVERIFY(m_client->waitForLines(1));
        QTest::qWait(20);
        QCOMPARE(m_client->lines.size(), 1);
        QCOMPARE_JSON(m_client->message(0)["id"], Json(1));
    }

    void malformedLineThenKeepsServing()
    {
        QVERIFY(connectPair());
        m_client->sendRaw("{not json\n");
        expectError(0, RpcError::ParseError);
        m_client->send(request(2, "servers/list"));
        QTRY_COMPARE(m_requests->size(), 1);
        m_connection->sendResult(Json(2), Json::array());
        QVERIFY(m_client->waitForLines(2));
        QCOMPARE_JSON(m_client->message(1)["result"], Json::array());
        QCOMPARE(m_closed->size(), 0);
    }

    void invalidRequests_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<int>("code");
        QTest::addColumn<QByteArray>("replyId"); // JSON
        QTest::newRow("number") << QByteArray("42") << int(RpcError::InvalidRequest) << QByteArray("null");
        QTest::newRow("string") << QByteArray("\"hi\"") << int(RpcError::InvalidRequest)
                                << QByteArray("null");
        QTest::newRow("no jsonrpc") << QByteArray(R"({"id":1,"method":"m"})") << int(RpcError::InvalidRequest)
                                    << QByteArray("1");
        QTest::newRow("jsonrpc 1.0") << QByteArray(R"({"jsonrpc":"1.0","id":1,"method":"m"})")
                                     << int(RpcError::InvalidRequest) << QByteArray("1");
        QTest::newRow("method number") << QByteArray(R"({"jsonrpc":"2.0","id":"x","method":5})")
                                       << int(RpcError::InvalidRequest) << QByteArray("\"x\"");
        QTest::newRow("no method") << QByteArray(R"({"jsonrpc":"2.0","id":3})")
                                   << int(RpcError::InvalidRequest) << QByteArray("3");
        QTest::newRow("a response") << QByteArray(R"({"jsonrpc":"2.0","id":3,"result":{}})")
                                    << int(RpcError::InvalidRequest) << QByteArray("3");
        QTest::newRow("params string") << QByteArray(R"({"jsonrpc":"2.0","id":4,"method":"m","params":"x"})")
                                       << int(RpcError::InvalidRequest) << QByteArray("4");
        QTest::newRow("params null") << QByteArray(R"({"jsonrpc":"2.0","id":4,"method":"m","params":null})")
                                     << int(RpcError::InvalidRequest) << QByteArray("4");
        QTest::newRow("id object") << QByteArray(R"({"jsonrpc":"2.0","id":{"a":1},"method":"m"})")
                                   << int(RpcError::InvalidRequest) << QByteArray("null");
        QTest::newRow("batch") << QByteArray(R"([{"jsonrpc":"2.0","id":1,"method":"m"}])")
                               << int(RpcError::InvalidRequest) << QByteArray("null");
        QTest::newRow("empty batch") << QByteArray("[]") << int(RpcError::InvalidRequest)
                                     << QByteArray("null");
        QTest::newRow("truncated") << QByteArray(R"({"jsonrpc":"2.0","id":1)") << int(RpcError::ParseError)
                                   << QByteArray("null");
        QTest::newRow("invalid utf8") << QByteArray("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}")
                                      << int(RpcError::ParseError) << QByteArray("null");
    }
    void invalidRequests()
    {
        QFETCH(QByteArray, line);
        QFETCH(int, code);
        QFETCH(QByteArray, replyId);
        QVERIFY(connectPair());
        m_client->sendRaw(line + '\n');
        expectError(0, code, Json::parse(replyId.toStdString()));
        QCOMPARE(m_requests->size(), 0);
        // The connection stays usable.
        m_client->send(request(9, "m"));
        QTRY_COMPARE(m_requests->size(), 1);
        QCOMPARE(m_closed->size(), 0);
    }

    void batchIsExplained()
    {
        QVERIFY(connectPair());
        m_client->sendRaw(R"([{"jsonrpc":"2.0","id":1,"method":"m"}])"
                          "\n");
        expectError(0, RpcError::InvalidRequest);
        QCOMPARE_JSON(m_client->message(0)["error"]["message"], Json("batches are not supported"));
    }

    void unboundedLineIsCut()
    {
        QVERIFY(connectPair());                      // 1 MiB cap
        const QByteArray huge(2 * 1024 * 1024, 'a'); // no newline ever
        m_client->sendRaw("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"");
        m_client->sendRaw(huge);
        QVERIFY(m_client->waitForLines(1, 5000));
        expectError(0, RpcError::InvalidRequest);
        QCOMPARE_JSON(m_client->message(0)["error"]["message"], Json("request too large"));
        QVERIFY(m_client->waitForDisconnect());
        QTRY_COMPARE(m_closed->size(), 1);
        QCOMPARE(m_requests->size(), 0);
        QVERIFY(m_connection->state() == JsonRpcConnection::State::Closed);
    }

    void oversizedCompleteLineIsCut()
    {
        QVERIFY(connectPair(/*maxLineBytes=*/100));
        m_client->send(request(1, "ok"));
        m_client->sendRaw(toBytes(request(2, "x", {{"pad", std::string(200, 'p')}})) + '\n' +
                          toBytes(request(3, "after")) + '\n');
        QTRY_COMPARE(m_closed->size(), 1);
        QCOMPARE(m_requests->size(), 1); // the one before; nothing after the oversized line
        QCOMPARE(m_requests->first().at(1).toString(), QStringLiteral("ok"));
        expectError(0, RpcError::InvalidRequest);
    }

    void capsPendingRequests()
    {
        QVERIFY(connectPair());
        const int cap = JsonRpcConnection::maxPendingRequests;
        QByteArray burst;
        for (int i = 0; i <= cap; ++i)
            burst += toBytes(request(i, "token/get")) + '\n';
        m_client->sendRaw(burst);
        QVERIFY(m_client->waitForLines(1));
        QCOMPARE(m_requests->size(), cap);
        expectError(0, RpcError::Busy, Json(cap));
        QCOMPARE_JSON(m_client->message(0)["error"]["message"], Json("too many pending requests"));
        // Answering one frees a slot.
        m_connection->sendError(Json(0), RpcError::LoginRequired, QStringLiteral("sign in"),
                                rpcErrorData(Error::loginRequired(QStringLiteral("sign in"))));
        QVERIFY(m_client->waitForLines(2));
        QCOMPARE_JSON(m_client->message(1)["error"]["data"],
                      Json({{"code", "login_required"}, {"category", "login_required"}}));
        m_client->send(request(1000, "token/get"));
        QTRY_COMPARE(m_requests->size(), cap + 1);
    }

    // Issue 6.3: a 520,000-deep array (just under the 1 MiB cap) is a parse error, not a crash, and
    // the connection goes on serving.
    void deepNestingIsAParseError()
    {
        QVERIFY(connectPair());
        const int depth = 520'000;
        m_client->sendRaw(QByteArray(depth, '[') + QByteArray(depth, ']') + '\n');
        expectError(0, RpcError::ParseError);
        QVERIFY(m_client->message(0)["error"]["message"].get<std::string>().find("nested") !=
                std::string::npos);
        // Deep params inside a valid request: refused the same way, never delivered.
        QByteArray deep = R"({"jsonrpc":"2.0","id":1,"method":"server/configure","params":{"x":)";
        deep += QByteArray(100'000, '[') + QByteArray(100'000, ']') + "}}\n";
        m_client->sendRaw(deep);
        expectError(1, RpcError::ParseError);
        m_client->send(request(2, "agent/status"));
        QTRY_COMPARE(m_requests->size(), 1);
        QCOMPARE(m_requests->first().at(1).toString(), QStringLiteral("agent/status"));
        // 64 levels are fine.
        m_client->send(request(3, "deep", {{"x", Json::parse(std::string(60, '[') + std::string(60, ']'))}}));
        QTRY_COMPARE(m_requests->size(), 2);
    }

    // Issue 6.6: a line must end within its deadline, counted from its first byte.
    void unfinishedLineTimesOut()
    {
        QVERIFY(connectPair());
        m_connection->setTimeouts(300ms, 10s);
        m_client->sendRaw(R"({"jsonrpc":"2.0",)");
        QTRY_VERIFY(m_connection->isStalled());
        for (int i = 0; i < 10 && m_client->socket.state() == QLocalSocket::ConnectedState; ++i) {
            m_client->sendRaw(" "); // trickling does not keep it alive
            QTest::qWait(50);
        }
        QVERIFY(m_client->waitForDisconnect(2000));
        QTRY_COMPARE(m_closed->size(), 1);
        expectError(0, RpcError::InvalidRequest);
        QCOMPARE_JSON(m_client->message(0)["error"]["message"], Json("request line not finished in time"));
    }

    void finishedLinesKeepTheConnection()
    {
        QVERIFY(connectPair());
        m_connection->setTimeouts(300ms, 10s);
        for (int i = 0; i < 4; ++i) { // each line ends within its deadline, however long it all takes
            m_client->sendRaw(R"({"jsonrpc":"2.0","id":)" + QByteArray::number(i));
            QTest::qWait(200);
            m_client->sendRaw(R"(,"method":"m"})"
                              "\n");
        }
        QTRY_COMPARE(m_requests->size(), 4);
        QVERIFY(!m_connection->isStalled());
        QTest::qWait(400);
        QCOMPARE(m_closed->size(), 0);
    }

    // Issue 6.6: a client that does not read its replies stops being read (its writes then block
    // in the kernel), holds at most maxUnsentBytes of replies, and is cut if it does not drain.
    void nonReadingClientIsPausedThenCut()
    {
        QVERIFY(connectPair());
        m_connection->setTimeouts(10s, 500ms);
        QLocalSocket silent; // reads nothing: Qt stops taking bytes from the kernel at 1 byte
        silent.setReadBufferSize(1);
        silent.connectToServer(m_server->fullServerName());
        QVERIFY(QTest::qWaitFor([&] { return m_server->hasPendingConnections(); }, 3000));
        PeerInfo peer;
        peer.known = true;
        auto *conn = new JsonRpcConnection(streamFor(m_server->nextPendingConnection()), peer, 1 << 20, this);
        conn->setTimeouts(10s, 500ms);
        QSignalSpy closed(conn, &JsonRpcConnection::closed);
        const QByteArray flood = QByteArray("x\n").repeated(100'000); // 100,000 error replies' worth
        silent.write(flood);
        auto *agentSide = conn->findChild<LocalStream *>();
        QVERIFY(agentSide);
        qint64 most = 0;
        QVERIFY(QTest::qWaitFor(
            [&] {
                if (closed.size())
                    return true;
                most = std::max(most, agentSide->bytesToWrite());
                return false;
            },
            5000));
        QVERIFY2(most <= JsonRpcConnection::maxUnsentBytes + 256, qPrintable(QString::number(most)));
        delete conn;
    }

    void slowReaderIsServedCompletely()
    {
        QVERIFY(connectPair());
        m_connection->setTimeouts(10s, 3s);
        const int n = 20'000; // ~1.8 MB of replies: well past the back-pressure mark
        m_client->socket.setReadBufferSize(1);
        m_client->sendRaw(QByteArray("x\n").repeated(n));
        QTRY_VERIFY(m_connection->isStalled()); // paused while the client reads nothing
        m_client->socket.setReadBufferSize(0);
        m_client->socket.readAll();
        QVERIFY(m_client->waitForLines(n - 1, 10000)); // the first byte went to readAll() above
        QCOMPARE(m_closed->size(), 0);
    }

    void closedOnceWhenPeerLeaves()
    {
        QVERIFY(connectPair());
        m_client->socket.disconnectFromServer();
        QTRY_COMPARE(m_closed->size(), 1);
        m_connection->close();
        m_connection->sendResult(Json(1), Json::object()); // harmless after close
        QTest::qWait(20);
        QCOMPARE(m_closed->size(), 1);
    }

    void closeFlushesThenDisconnects()
    {
        QVERIFY(connectPair());
        m_client->send(request(5, "logout"));
        QTRY_COMPARE(m_requests->size(), 1);
        m_connection->sendResult(Json(5), Json{{"revoked", true}});
        m_connection->close();
        QVERIFY(m_client->waitForDisconnect());
        QCOMPARE(m_client->lines.size(), 1);
        QCOMPARE_JSON(m_client->message(0)["result"]["revoked"], Json(true));
        QTRY_COMPARE(m_closed->size(), 1);
    }

    void dataIsOptionalInErrors()
    {
        QVERIFY(connectPair());
        m_client->send(request("r", "x"));
        QTRY_COMPARE(m_requests->size(), 1);
        m_connection->sendError(Json("r"), RpcError::MethodNotFound, QStringLiteral("unknown method"));
        expectError(0, RpcError::MethodNotFound, Json("r"));
        QVERIFY(!m_client->message(0)["error"].contains("data"));
    }
};

QTEST_GUILESS_MAIN(TestJsonRpcConnection)
#include "TestJsonRpcConnection.moc"
