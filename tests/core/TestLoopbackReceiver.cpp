#include "login/LoopbackReceiver.h"

#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkInterface>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <memory>

using namespace mcpauth;
using namespace std::chrono_literals;

namespace {

const QByteArray kSecretCode = "SplxlOBeZQQYbYS6WxSbIA";
const QByteArray kSecretState = "Kf3p9Qx-2bYt_8vLmN0aZr5cWq1eHs7uJd4gTo6iPyA";

// A raw HTTP client: full control over what is sent, records everything received and the close.
class RawClient
{
public:
    bool connectTo(quint16 port)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, &socket, [this] { received += socket.readAll(); });
        QObject::connect(&socket, &QTcpSocket::disconnected, &socket, [this] { closed = true; });
        this->port = port;
        socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
        return socket.waitForConnected(2000);
    }
    void send(const QByteArray &bytes)
    {
        socket.write(bytes);
        socket.flush();
    }
    /// What a browser sends for http://127.0.0.1:<port><target>.
    void get(const QByteArray &target)
    {
        send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port) + "\r\n\r\n");
    }
    int status() const
    {
        // "HTTP/1.1 200 OK"
        return received.startsWith("HTTP/1.1 ") ? received.mid(9, 3).toInt() : -1;
    }
    QByteArray body() const { return received.mid(received.indexOf("\r\n\r\n") + 4); }
    bool hasHeader(const QByteArray &line) const
    {
        return received.left(received.indexOf("\r\n\r\n")).split('\n').contains(line + '\r');
    }

    QTcpSocket socket;
    quint16 port = 0;
    QByteArray received;
    bool closed = false;
};

QByteArray callbackTarget()
{
    return "/callback?code=" + kSecretCode + "&state=" + kSecretState +
           "&iss=https%3A%2F%2Fas.example.com&error_description=a+b%2Bc";
}

QStringList g_log;
void captureLog(QtMsgType, const QMessageLogContext &, const QString &msg)
{
    g_log.append(msg);
}

} // namespace

class TestLoopbackReceiver : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        // Make every login log line exist so the redaction test sees them.
        QLoggingCategory::setFilterRules(QStringLiteral("mcpauth.*=true"));
    }

    void bindsLoopbackOnly()
    {
        LoopbackReceiver receiver;
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Idle);
        const Result<QString> uri = receiver.listen();
        QVERIFY2(uri.ok(), qPrintable(uri.ok() ? QString() : uri.error().message));
        QCOMPARE(receiver.serverAddress(), QHostAddress(QHostAddress::LocalHost));
        QVERIFY(receiver.port() != 0);
        QCOMPARE(uri.value(), QStringLiteral("http://127.0.0.1:%1/callback").arg(receiver.port()));
        QCOMPARE(receiver.redirectUri(), uri.value());
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Listening);

        // Not reachable on a non-loopback address of this machine, if it has one.
        for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
            if (address.isLoopback() || address.protocol() != QAbstractSocket::IPv4Protocol)
                continue;
            QTcpSocket probe;
            probe.connectToHost(address, receiver.port());
            QVERIFY2(!probe.waitForConnected(1000), qPrintable(address.toString()));
        }
    }

    void customPathAndPreferredPort()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress(QHostAddress::LocalHost), 0));
        const quint16 freePort = probe.serverPort();
        probe.close();

        LoopbackReceiver receiver;
        const auto uri = receiver.listen(freePort, QStringLiteral("/oauth/done"));
        QVERIFY(uri.ok());
        QCOMPARE(uri.value(), QStringLiteral("http://127.0.0.1:%1/oauth/done").arg(freePort));

        LoopbackReceiver again;
        QCOMPARE(again.listen(0, QStringLiteral("no-slash")).error().code,
                 QStringLiteral("invalid_redirect_path"));
        QCOMPARE(again.listen(0, QStringLiteral("/cb?x=1")).error().code,
                 QStringLiteral("invalid_redirect_path"));
        QVERIFY(!receiver.listen().ok()); // already listening
    }

    void busyPreferredPort()
    {
        QTcpServer occupant;
        QVERIFY(occupant.listen(QHostAddress(QHostAddress::LocalHost), 0));
        LoopbackReceiver receiver;
        const auto uri = receiver.listen(occupant.serverPort());
        QVERIFY(!uri.ok());
        QCOMPARE(uri.error().category, Error::Category::Network);
        QCOMPARE(uri.error().code, QStringLiteral("port_busy"));
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Idle);
    }

    void callbackDeliversQueryOnceAndRespondAnswers()
    {
        LoopbackReceiver receiver;
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);

        RawClient browser;
        QVERIFY(browser.connectTo(receiver.port()));
        browser.get(callbackTarget());
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);
        QCOMPARE(receiver.state(), LoopbackReceiver::State::CallbackReceived);

        const auto query = spy.at(0).at(0).value<QUrlQuery>();
        QCOMPARE(query.queryItemValue(QStringLiteral("code")), QString::fromLatin1(kSecretCode));
        QCOMPARE(query.queryItemValue(QStringLiteral("state")), QString::fromLatin1(kSecretState));
        QCOMPARE(query.queryItemValue(QStringLiteral("iss"), QUrl::FullyDecoded),
                 QStringLiteral("https://as.example.com"));
        // Form encoding: '+' is a space, %2B a plus.
        QCOMPARE(query.queryItemValue(QStringLiteral("error_description"), QUrl::FullyDecoded),
                 QStringLiteral("a b+c"));

        // The browser waits for the outcome: nothing written yet, connection open.
        QTest::qWait(100);
        QVERIFY(browser.received.isEmpty());
        QVERIFY(!browser.closed);

        receiver.respond(true, QStringLiteral("Signed in to <b>Example & Co</b>."));
        QTRY_VERIFY_WITH_TIMEOUT(browser.closed, 3000);
        QCOMPARE(browser.status(), 200);
        QVERIFY(browser.hasHeader("Content-Type: text/html; charset=utf-8"));
        QVERIFY(browser.hasHeader("Cache-Control: no-store"));
        QVERIFY(browser.hasHeader("Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'"));
        const QByteArray body = browser.body();
        QVERIFY(browser.hasHeader("Content-Length: " + QByteArray::number(body.size())));
        QVERIFY(body.contains("Signed in to &lt;b&gt;Example &amp; Co&lt;/b&gt;."));
        QVERIFY(!body.contains("<b>"));
        QVERIFY(body.contains("You can close this tab"));
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Closed);
        QCOMPARE(spy.count(), 1);
    }

    void secondCallbackIsRefused()
    {
        LoopbackReceiver receiver;
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);
        // A connection opened before the callback, used after it.
        RawClient early;
        QVERIFY(early.connectTo(receiver.port()));

        RawClient first;
        QVERIFY(first.connectTo(receiver.port()));
        first.get(callbackTarget());
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);

        // The listener is closed: a new connection is refused.
        QTcpSocket late;
        late.connectToHost(QHostAddress(QHostAddress::LocalHost), receiver.port());
        QVERIFY(!late.waitForConnected(1000));
        QCOMPARE(late.error(), QAbstractSocket::ConnectionRefusedError);

        // The early connection was dropped or answered without a second callback.
        early.get("/callback?code=attacker&state=x");
        QTRY_VERIFY_WITH_TIMEOUT(early.closed || early.socket.state() == QAbstractSocket::UnconnectedState,
                                 3000);
        QTest::qWait(50);
        QCOMPARE(spy.count(), 1);
        QVERIFY(early.status() != 200);
    }

    // Issue 6.2: any local user can reach the port; only the sign-in's own state is the callback.
    void forgedCallbacksAreAnsweredAndIgnored_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::newRow("wrong state") << QByteArray("/callback?code=attacker&state=x");
        QTest::newRow("no state") << QByteArray("/callback?code=attacker");
        QTest::newRow("error, wrong state") << QByteArray("/callback?error=access_denied&state=x");
        QTest::newRow("state repeated")
            << QByteArray("/callback?code=attacker&state=" + kSecretState + "&state=" + kSecretState);
        QTest::newRow("state prefix") << QByteArray("/callback?code=a&state=" + kSecretState.left(10));
        QTest::newRow("empty query") << QByteArray("/callback");
    }
    void forgedCallbacksAreAnsweredAndIgnored()
    {
        QFETCH(QByteArray, target);
        LoopbackReceiver receiver;
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);

        for (int i = 0; i < 3; ++i) { // again and again: the listener stays
            RawClient forger;
            QVERIFY(forger.connectTo(receiver.port()));
            forger.get(target);
            QTRY_VERIFY_WITH_TIMEOUT(forger.closed, 3000);
            QCOMPARE(forger.status(), 400);
            QVERIFY(forger.body().contains("does not belong to the sign-in in progress"));
        }
        QCOMPARE(spy.count(), 0);
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Listening);

        RawClient browser;
        QVERIFY(browser.connectTo(receiver.port()));
        browser.get(callbackTarget());
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);
        QCOMPARE(spy.at(0).at(0).value<QUrlQuery>().queryItemValue(QStringLiteral("code")),
                 QString::fromLatin1(kSecretCode));
    }

    void noCallbackBeforeTheStateIsKnown()
    {
        LoopbackReceiver receiver; // listening while the client registers: no state yet
        QVERIFY(receiver.listen().ok());
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);
        RawClient early;
        QVERIFY(early.connectTo(receiver.port()));
        early.get(callbackTarget());
        QTRY_VERIFY_WITH_TIMEOUT(early.closed, 3000);
        QCOMPARE(early.status(), 400);
        QCOMPARE(spy.count(), 0);
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Listening);
    }

    // DNS rebinding: a page that points a name at 127.0.0.1 sends its own name in Host.
    void foreignHostIsRefused_data()
    {
        QTest::addColumn<QByteArray>("hostLines"); // raw header lines, with {port} replaced
        QTest::newRow("rebinding name") << QByteArray("Host: evil.example:{port}\r\n");
        QTest::newRow("no port") << QByteArray("Host: 127.0.0.1\r\n");
        QTest::newRow("other port") << QByteArray("Host: 127.0.0.1:1\r\n");
        QTest::newRow("other loopback address") << QByteArray("Host: 127.0.0.2:{port}\r\n");
        QTest::newRow("missing") << QByteArray();
        QTest::newRow("twice") << QByteArray("Host: 127.0.0.1:{port}\r\nHost: evil.example\r\n");
    }
    void foreignHostIsRefused()
    {
        QFETCH(QByteArray, hostLines);
        LoopbackReceiver receiver;
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);
        RawClient page;
        QVERIFY(page.connectTo(receiver.port()));
        hostLines.replace("{port}", QByteArray::number(receiver.port()));
        page.send("GET " + callbackTarget() + " HTTP/1.1\r\n" + hostLines + "\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(page.closed, 3000);
        QCOMPARE(page.status(), 421);
        QCOMPARE(spy.count(), 0);
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Listening);

        RawClient named; // "localhost" is the loopback's own name (a pre-registered redirect may use it)
        QVERIFY(named.connectTo(receiver.port()));
        named.send("GET " + callbackTarget() +
                   " HTTP/1.1\r\nHost: LocalHost:" + QByteArray::number(receiver.port()) + "\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);
    }

    void otherPathsGet404AndDoNotConsume()
    {
        LoopbackReceiver receiver;
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);

        const QList<QByteArray> targets = {"/favicon.ico", "/callback/", "/callbackx?code=1", "/",
                                           "/CALLBACK?code=1"};
        for (const QByteArray &target : targets) {
            RawClient client;
            QVERIFY(client.connectTo(receiver.port()));
            client.get(target);
            QTRY_VERIFY_WITH_TIMEOUT(client.closed, 3000);
            QCOMPARE(client.status(), 404);
        }
        QCOMPARE(spy.count(), 0);
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Listening);

        RawClient browser;
        QVERIFY(browser.connectTo(receiver.port()));
        browser.get(callbackTarget());
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);
    }

    void nonGetIsRefused_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::newRow("POST") << QByteArray("POST /callback?code=1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
                              << 405;
        QTest::newRow("HEAD") << QByteArray("HEAD /callback?code=1 HTTP/1.1\r\n\r\n") << 405;
        QTest::newRow("garbage") << QByteArray("HELLO\r\n\r\n") << 400;
        QTest::newRow("absolute target")
            << QByteArray("GET http://127.0.0.1/callback HTTP/1.1\r\n\r\n") << 400;
        QTest::newRow("not http") << QByteArray("GET /callback SPDY/3\r\n\r\n") << 400;
    }
    void nonGetIsRefused()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        LoopbackReceiver receiver;
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);
        RawClient client;
        QVERIFY(client.connectTo(receiver.port()));
        client.send(request);
        QTRY_VERIFY_WITH_TIMEOUT(client.closed, 3000);
        QCOMPARE(client.status(), status);
        if (status == 405)
            QVERIFY(client.hasHeader("Allow: GET"));
        QCOMPARE(spy.count(), 0);
    }

    void oversizedHeaderIsRejected()
    {
        LoopbackReceiver receiver;
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);

        RawClient big;
        QVERIFY(big.connectTo(receiver.port()));
        // A complete request whose header section is over 16 KiB…
        big.send("GET " + callbackTarget() + " HTTP/1.1\r\nX-Pad: " + QByteArray(17 * 1024, 'a') +
                 "\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(big.closed, 3000);
        QCOMPARE(big.status(), 431);

        // …and one that never ends its header section.
        RawClient endless;
        QVERIFY(endless.connectTo(receiver.port()));
        endless.send("GET /callback HTTP/1.1\r\n");
        for (int i = 0; i < 40 && !endless.closed; ++i) {
            endless.send("X-Pad: " + QByteArray(1000, 'b') + "\r\n");
            QTest::qWait(5);
        }
        QTRY_VERIFY_WITH_TIMEOUT(endless.closed, 3000);
        QCOMPARE(endless.status(), 431);
        QCOMPARE(spy.count(), 0);

        // Still waiting for the real callback.
        RawClient browser;
        QVERIFY(browser.connectTo(receiver.port()));
        browser.get(callbackTarget());
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);
    }

    void silentConnectionIsDroppedWithoutBlocking()
    {
        LoopbackReceiver receiver;
        receiver.setTimeouts(300ms, 60s);
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);

        RawClient silent;
        QVERIFY(silent.connectTo(receiver.port()));
        RawClient trickle;
        QVERIFY(trickle.connectTo(receiver.port()));
        trickle.send("GET /call");

        // The real callback is served while the idle connections are still open.
        RawClient browser;
        QVERIFY(browser.connectTo(receiver.port()));
        browser.get(callbackTarget());
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);
        receiver.respond(false, QStringLiteral("nope"));
        QTRY_VERIFY_WITH_TIMEOUT(browser.closed, 3000);
        QCOMPARE(browser.status(), 200);
        QVERIFY(browser.body().contains("Sign-in failed"));
        QTRY_VERIFY_WITH_TIMEOUT(silent.closed, 3000);
        QTRY_VERIFY_WITH_TIMEOUT(trickle.closed, 3000);
        QVERIFY(silent.received.isEmpty());
    }

    void silentConnectionTimesOut()
    {
        LoopbackReceiver receiver;
        receiver.setTimeouts(300ms, 60s);
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        RawClient silent;
        QVERIFY(silent.connectTo(receiver.port()));
        QTest::qWait(100);
        QVERIFY(!silent.closed);
        QTRY_VERIFY_WITH_TIMEOUT(silent.closed, 3000);
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Listening); // still waiting for the callback
    }

    void answersGenericallyWithoutRespond()
    {
        LoopbackReceiver receiver;
        receiver.setTimeouts(10s, 300ms);
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);
        RawClient browser;
        QVERIFY(browser.connectTo(receiver.port()));
        browser.get(callbackTarget());
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);
        QTRY_VERIFY_WITH_TIMEOUT(browser.closed, 3000);
        QCOMPARE(browser.status(), 200);
        QVERIFY(browser.body().contains("did not confirm"));
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Closed);
    }

    void worksWithQNetworkAccessManager()
    {
        LoopbackReceiver receiver;
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        connect(&receiver, &LoopbackReceiver::callbackReceived, this, [&receiver](const QUrlQuery &query) {
            receiver.respond(query.hasQueryItem(QStringLiteral("code")),
                             QStringLiteral("Signed in to Example."));
        });
        QNetworkAccessManager nam;
        QUrl url(receiver.redirectUri());
        url.setQuery(QStringLiteral("code=abc&state=") + QString::fromLatin1(kSecretState));
        std::unique_ptr<QNetworkReply> reply(nam.get(QNetworkRequest(url)));
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 3000);
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        QCOMPARE(reply->rawHeader("Cache-Control"), QByteArray("no-store"));
        QVERIFY(reply->readAll().contains("Signed in to Example."));
    }

    void deletingAfterRespondStillDeliversThePage()
    {
        auto receiver = std::make_unique<LoopbackReceiver>();
        QVERIFY(receiver->listen().ok());
        receiver->setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(receiver.get(), &LoopbackReceiver::callbackReceived);
        RawClient browser;
        QVERIFY(browser.connectTo(receiver->port()));
        browser.get(callbackTarget());
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);
        receiver->respond(true, QStringLiteral("done"));
        receiver.reset();
        QTRY_VERIFY_WITH_TIMEOUT(browser.closed, 3000);
        QCOMPARE(browser.status(), 200);
        QVERIFY(browser.body().contains("</html>"));
    }

    void closeDropsEverythingAndIsIdempotent()
    {
        LoopbackReceiver receiver;
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);
        RawClient browser;
        QVERIFY(browser.connectTo(receiver.port()));
        browser.get(callbackTarget());
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);
        const quint16 port = receiver.port();

        receiver.close();
        receiver.close();
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Closed);
        QTRY_VERIFY_WITH_TIMEOUT(browser.closed, 3000);
        QVERIFY(browser.received.isEmpty());
        receiver.respond(true, QStringLiteral("too late")); // no crash, nothing to answer

        QTcpSocket late;
        late.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
        QVERIFY(!late.waitForConnected(1000));

        // A closed receiver can listen again, for a new attempt.
        QVERIFY(receiver.listen().ok());
        receiver.setExpectedState(QString::fromLatin1(kSecretState));
        QCOMPARE(receiver.state(), LoopbackReceiver::State::Listening);
    }

    void neverLogsCodeOrState()
    {
        g_log.clear();
        const QtMessageHandler previous = qInstallMessageHandler(captureLog);
        {
            LoopbackReceiver receiver;
            QVERIFY(receiver.listen().ok());
            receiver.setExpectedState(QString::fromLatin1(kSecretState));
            QSignalSpy spy(&receiver, &LoopbackReceiver::callbackReceived);
            RawClient browser;
            QVERIFY(browser.connectTo(receiver.port()));
            browser.get(callbackTarget());
            QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 3000);
            receiver.respond(true, QStringLiteral("ok"));
            QTRY_VERIFY_WITH_TIMEOUT(browser.closed, 3000);
        }
        qInstallMessageHandler(previous);
        QVERIFY(!g_log.isEmpty()); // the callback is logged…
        const QString all = g_log.join(QLatin1Char('\n'));
        QVERIFY2(!all.contains(QString::fromLatin1(kSecretCode)), qPrintable(all)); // …without its secrets
        QVERIFY2(!all.contains(QString::fromLatin1(kSecretState)), qPrintable(all));
    }

    void pageEscapesAndIsSelfContained_data()
    {
        QTest::addColumn<bool>("success");
        QTest::newRow("success") << true;
        QTest::newRow("failure") << false;
    }
    void pageEscapesAndIsSelfContained()
    {
        QFETCH(bool, success);
        const QByteArray html =
            LoopbackReceiver::page(success, QStringLiteral("<script>alert(1)</script> \"q\" & %1 %2 Zürich"));
        QVERIFY(html.startsWith("<!DOCTYPE html>"));
        QVERIFY(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &amp; %1 %2 Zürich"));
        QVERIFY(!html.contains("<script"));
        for (const char *external : {"src=", "href=", "url(", "@import", "http://", "https://"})
            QVERIFY2(!html.contains(external), external);
        QVERIFY(html.contains(success ? "Signed in" : "Sign-in failed"));
        QVERIFY(!html.contains(success ? "Sign-in failed" : "Signed in"));
    }
};

QTEST_GUILESS_MAIN(TestLoopbackReceiver)
#include "TestLoopbackReceiver.moc"
