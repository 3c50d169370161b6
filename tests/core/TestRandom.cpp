#include "common/Random.h"

#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace mcpauth;

class TestRandom : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void bytesHasRequestedLength_data()
    {
        QTest::addColumn<int>("n");
        QTest::newRow("zero") << 0;
        QTest::newRow("negative") << -5;
        QTest::newRow("one") << 1;
        QTest::newRow("thirty-two") << 32;
        QTest::newRow("large") << 4096;
    }
    void bytesHasRequestedLength()
    {
        QFETCH(int, n);
        QCOMPARE(Random::bytes(n).size(), qMax(0, n));
    }

    void bytesAreUnique()
    {
        QSet<QByteArray> seen;
        for (int i = 0; i < 1000; ++i)
            seen.insert(Random::bytes(16));
        QCOMPARE(seen.size(), 1000);
    }

    void bytesUseTheWholeByteRange()
    {
        // 64 KiB of real randomness hits every byte value; a generator stuck on ASCII or on a few
        // values would not.
        const QByteArray data = Random::bytes(64 * 1024);
        QSet<uchar> values;
        for (const char c : data)
            values.insert(uchar(c));
        QCOMPARE(values.size(), 256);
    }

    void urlSafeTokenLengthAndCharset_data()
    {
        QTest::addColumn<int>("nBytes");
        QTest::addColumn<int>("chars");
        // base64 without padding: ceil(4n/3)
        QTest::newRow("default 32") << 32 << 43;
        QTest::newRow("16") << 16 << 22;
        QTest::newRow("1") << 1 << 2;
        QTest::newRow("48") << 48 << 64;
    }
    void urlSafeTokenLengthAndCharset()
    {
        QFETCH(int, nBytes);
        QFETCH(int, chars);
        static const QRegularExpression urlSafe(QStringLiteral("^[A-Za-z0-9_-]*$"));
        for (int i = 0; i < 200; ++i) {
            const QString token = nBytes == 32 ? Random::urlSafeToken() : Random::urlSafeToken(nBytes);
            QCOMPARE(token.size(), chars);
            QVERIFY2(urlSafe.match(token).hasMatch(), qPrintable(token));
            QCOMPARE(QByteArray::fromBase64(token.toLatin1(), QByteArray::Base64UrlEncoding).size(), nBytes);
        }
    }

    void urlSafeTokensAreUnique()
    {
        QSet<QString> seen;
        for (int i = 0; i < 1000; ++i)
            seen.insert(Random::urlSafeToken());
        QCOMPARE(seen.size(), 1000);
    }
};

QTEST_GUILESS_MAIN(TestRandom)
#include "TestRandom.moc"
