#include "common/Json.h"

#include <QTest>

using namespace mcpauth;

/// Depth-bounded JSON parsing of outside input (issue 6.3): checked on the raw bytes, before a
/// value is built, so no recursive copy or dump ever sees a hostile depth.
class TestJson : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void nestingDepth_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<int>("depth");
        QTest::newRow("scalar") << QByteArray("42") << 0;
        QTest::newRow("flat") << QByteArray("{\"a\":1,\"b\":[1,2]}") << 2;
        QTest::newRow("brackets in strings") << QByteArray("{\"a\":\"[[[[{{{{\"}") << 1;
        QTest::newRow("escaped quote") << QByteArray("{\"a\":\"\\\"[[[[\",\"b\":[]}") << 2;
        QTest::newRow("escaped backslash") << QByteArray("[\"\\\\\",[[\"x\"]]]") << 3;
        QTest::newRow("siblings") << QByteArray("[[],[],[[]]]") << 3;
    }
    void nestingDepth()
    {
        QFETCH(QByteArray, text);
        QFETCH(int, depth);
        QCOMPARE(jsonNestingDepth(text, 100), depth);
    }

    void refusesDeepDocuments()
    {
        const QByteArray ok = QByteArray(kMaxJsonDepth, '[') + QByteArray(kMaxJsonDepth, ']');
        QVERIFY(parseJson(ok, QStringLiteral("doc")).ok());
        const QByteArray deep = QByteArray(kMaxJsonDepth + 1, '[') + QByteArray(kMaxJsonDepth + 1, ']');
        const Result<Json> r = parseJson(deep, QStringLiteral("doc"));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QStringLiteral("json_too_deep"));
        QCOMPARE(r.error().category, Error::Category::Protocol);
        // A million levels: refused in linear time, no stack involved.
        const QByteArray huge = "{\"a\":" + QByteArray(1'000'000, '[');
        QCOMPARE(parseJsonObject(huge, QStringLiteral("doc")).error().code, QStringLiteral("json_too_deep"));
        // The MCP bound is more generous.
        const QByteArray mcp = QByteArray(200, '[') + QByteArray(200, ']');
        QVERIFY(!parseJson(mcp, QStringLiteral("m")).ok());
        QVERIFY(parseJson(mcp, QStringLiteral("m"), kMaxMcpJsonDepth).ok());
    }

    void stillRefusesWhatIsNotJson()
    {
        QCOMPARE(parseJson("[1,", QStringLiteral("doc")).error().code, QStringLiteral("invalid_json"));
        QCOMPARE(parseJsonObject("[]", QStringLiteral("doc")).error().code, QStringLiteral("invalid_json"));
        QVERIFY(parseJsonObject("{\"x\":\"]]]]\"}", QStringLiteral("doc")).ok());
    }
};

QTEST_GUILESS_MAIN(TestJson)
#include "TestJson.moc"
