#include "tokens/FormBody.h"

#include <QTest>
#include <QUrlQuery>

using namespace mcpauth;

class TestFormBody : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void encode_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QByteArray>("encoded");
        QTest::newRow("unreserved") << "AZaz09-._*" << QByteArray("AZaz09-._*");
        QTest::newRow("space") << "a b" << QByteArray("a+b");
        QTest::newRow("plus") << "a+b" << QByteArray("a%2Bb");
        QTest::newRow("ampersand") << "a&b" << QByteArray("a%26b");
        QTest::newRow("equals") << "a=b" << QByteArray("a%3Db");
        QTest::newRow("percent") << "100%" << QByteArray("100%25");
        QTest::newRow("percent-20") << "%20" << QByteArray("%2520");
        QTest::newRow("tilde") << "~" << QByteArray("%7E"); // Appendix B, unlike RFC 3986
        QTest::newRow("colon slash") << "http://x/" << QByteArray("http%3A%2F%2Fx%2F");
        QTest::newRow("utf8") << QString::fromUtf8("é") << QByteArray("%C3%A9");
    }
    void encode()
    {
        QFETCH(QString, value);
        QFETCH(QByteArray, encoded);
        QCOMPARE(FormBody::encode(value), encoded);
    }

    void bodyJoinsFieldsInOrder()
    {
        FormBody form;
        form.add(QStringLiteral("grant_type"), QStringLiteral("authorization_code"))
            .add(QStringLiteral("code"), QStringLiteral("a+b&c=d e"))
            .addIfNotEmpty(QStringLiteral("scope"), QString())
            .add(QStringLiteral("empty"), QString());
        QCOMPARE(form.toBytes(), QByteArray("grant_type=authorization_code&code=a%2Bb%26c%3Dd+e&empty="));
        QCOMPARE(form.names(), (QStringList{QStringLiteral("grant_type"), QStringLiteral("code"),
                                            QStringLiteral("empty")}));
        QCOMPARE(form.value(QStringLiteral("code")), QStringLiteral("a+b&c=d e"));
        QCOMPARE(form.value(QStringLiteral("scope")), QString());
    }

    void roundTripsThroughAFormParser()
    {
        const QString tricky = QStringLiteral("+&=% /?#~é\"'");
        FormBody form;
        form.add(QStringLiteral("v"), tricky);
        QByteArray body = form.toBytes();
        body.replace('+', ' '); // what a form parser does before percent-decoding
        QCOMPARE(QUrlQuery(QString::fromUtf8(body)).queryItemValue(QStringLiteral("v"), QUrl::FullyDecoded),
                 tricky);
    }
};

QTEST_GUILESS_MAIN(TestFormBody)
#include "TestFormBody.moc"
