#include "tokens/OAuthError.h"

#include <QTest>

using namespace mcpauth;

class TestOAuthError : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parse_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("parsed");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("description");
        QTest::newRow("plain") << QByteArray(R"({"error":"invalid_grant","error_description":"expired"})")
                               << true << "invalid_grant"
                               << "expired";
        QTest::newRow("no description")
            << QByteArray(R"({"error":"invalid_client"})") << true << "invalid_client"
            << "";
        QTest::newRow("code junk stripped")
            << QByteArray(R"({"error":"bad code\n<b>"})") << true << "badcodeb"
            << "";
        QTest::newRow("newline in description")
            << QByteArray(R"({"error":"x","error_description":"line1\nINFO forged"})") << true << "x"
            << "line1?INFO forged";
        QTest::newRow("no error") << QByteArray(R"({"error_description":"x"})") << false << ""
                                  << "";
        QTest::newRow("error not string") << QByteArray(R"({"error":5})") << false << ""
                                          << "";
        QTest::newRow("html") << QByteArray("<html>500</html>") << false << ""
                              << "";
    }
    void parse()
    {
        QFETCH(QByteArray, body);
        QFETCH(bool, parsed);
        QFETCH(QString, code);
        QFETCH(QString, description);
        const auto e = OAuthError::parse(body);
        QCOMPARE(e.has_value(), parsed);
        if (!parsed)
            return;
        QCOMPARE(e->code, code);
        QCOMPARE(e->description, description);
    }

    void scrubsEchoedSecrets()
    {
        const auto e =
            OAuthError::parse(R"({"error":"invalid_request","error_description":"code abcd1234 is bad"})",
                              {QStringLiteral("abcd1234"), QStringLiteral("ab")});
        QVERIFY(e.has_value());
        QCOMPARE(e->description, QStringLiteral("code [redacted] is bad"));
    }

    void scrubsFormEncodedSecrets()
    {
        const QString secret = QStringLiteral("s+e&c=r e%t");
        const QString text =
            QStringLiteral("body was client_secret=s%2Be%26c%3Dr+e%25t and s%2Be%26c%3Dr%20e%25t");
        QCOMPARE(OAuthError::sanitizeText(text, {secret}),
                 QStringLiteral("body was client_secret=[redacted] and [redacted]"));
    }

    void limitsLength()
    {
        const QString text = QString(1000, QLatin1Char('a'));
        QVERIFY(OAuthError::sanitizeText(text).size() <= 203);
        QVERIFY(OAuthError::sanitizeCode(text).size() <= 64);
    }
};

QTEST_GUILESS_MAIN(TestOAuthError)
#include "TestOAuthError.moc"
