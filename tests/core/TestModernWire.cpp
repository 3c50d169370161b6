#include "proxy/ModernWire.h"

#include <QTest>

using namespace mcpauth;

// The 2026-07-28 wire vocabulary: header values, derived headers, _meta stamping, -32022 lists.
class TestModernWire : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void encodesHeaderValues_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("plain") << QStringLiteral("get_weather") << QByteArray("get_weather");
        QTest::newRow("inner space") << QStringLiteral("a b") << QByteArray("a b");
        QTest::newRow("uri") << QStringLiteral("file:///path/to/file%20name.txt")
                             << QByteArray("file:///path/to/file%20name.txt");
        // §Value Encoding: non-ASCII, control characters, leading/trailing whitespace, the sentinel.
        QTest::newRow("non-ascii") << QStringLiteral("caf\u00e9") << QByteArray("=?base64?Y2Fmw6k=?=");
        QTest::newRow("tab") << QStringLiteral("a\tb") << QByteArray("=?base64?YQli?=");
        QTest::newRow("crlf") << QStringLiteral("a\r\nb") << QByteArray("=?base64?YQ0KYg==?=");
        QTest::newRow("leading space") << QStringLiteral(" x") << QByteArray("=?base64?IHg=?=");
        QTest::newRow("trailing space") << QStringLiteral("x ") << QByteArray("=?base64?eCA=?=");
        QTest::newRow("sentinel look-alike")
            << QStringLiteral("=?base64?abc?=") << QByteArray("=?base64?PT9iYXNlNjQ/YWJjPz0=?=");
        QTest::newRow("empty") << QString()
                               << QByteArray("=?base64?"
                                             "?=");
    }
    void encodesHeaderValues()
    {
        QFETCH(QString, value);
        QFETCH(QByteArray, expected);
        QCOMPARE(ModernWire::encodeHeaderValue(value), expected);
    }

    void derivesStandardHeaders()
    {
        const Json call{
            {"jsonrpc", "2.0"},
            {"id", 1},
            {"method", "tools/call"},
            {"params", {{"name", "my-tool"}, {"_meta", {{ModernWire::versionKey, "2026-07-28"}}}}}};
        const ModernWire::Headers h = ModernWire::standardHeaders(call);
        QCOMPARE(h.size(), 3);
        QCOMPARE(h[0].first, QByteArray("MCP-Protocol-Version"));
        QCOMPARE(h[0].second, QByteArray("2026-07-28"));
        QCOMPARE(h[1].second, QByteArray("tools/call"));
        QCOMPARE(h[2].first, QByteArray("Mcp-Name"));
        QCOMPARE(h[2].second, QByteArray("my-tool"));

        const Json read{{"method", "resources/read"}, {"params", {{"uri", "https://example.com/r?id=1"}}}};
        const ModernWire::Headers r = ModernWire::standardHeaders(read);
        QCOMPARE(r.size(), 2); // no version in the body: no version header
        QCOMPARE(r[1].second, QByteArray("https://example.com/r?id=1"));

        const Json list{{"method", "tools/list"}, {"params", {{"name", "not a name"}}}};
        QCOMPARE(ModernWire::standardHeaders(list).size(), 1); // Mcp-Name only for the three methods
    }

    void stampsMetaKeepingTheCallers()
    {
        const Json request{{"jsonrpc", "2.0"},
                           {"id", 7},
                           {"method", "tools/list"},
                           {"params", {{"_meta", {{"progressToken", 3}}}}}};
        const Json out = ModernWire::stamp(request, Json{{"elicitation", Json::object()}},
                                           Json{{"name", "host"}, {"version", "1"}}, QStringLiteral("debug"));
        const Json meta = out["params"]["_meta"];
        QVERIFY(meta["progressToken"] == Json(3));
        QVERIFY(meta[ModernWire::versionKey] == Json("2026-07-28"));
        QVERIFY(meta[ModernWire::capabilitiesKey].contains("elicitation"));
        QVERIFY(meta[ModernWire::clientInfoKey]["name"] == Json("host"));
        QVERIFY(meta[ModernWire::logLevelKey] == Json("debug"));
        // No params at all: an empty capabilities object, which means "none" (basic/index.mdx).
        const Json bare = ModernWire::stamp(Json{{"method", "server/discover"}}, nullptr, nullptr, QString());
        QVERIFY(bare["params"]["_meta"][ModernWire::capabilitiesKey].is_object());
        QVERIFY(!bare["params"]["_meta"].contains(ModernWire::clientInfoKey));
    }

    void readsSupportedLists()
    {
        const auto err = [](Json supported) {
            return Json{{"code", -32022}, {"message", "x"}, {"data", {{"supported", supported}}}};
        };
        ModernWire::Supported s = ModernWire::supported(err(Json::array({"2026-07-28"})));
        QVERIFY(s.valid && s.mutual && !s.legacyOnly);
        s = ModernWire::supported(err(Json::array({"2025-11-25", "2025-06-18"})));
        QVERIFY(s.valid && !s.mutual && s.legacyOnly);
        s = ModernWire::supported(err(Json::array({"2027-01-01"})));
        QVERIFY(s.valid && !s.mutual && !s.legacyOnly);
        s = ModernWire::supported(Json{{"code", -32022}});
        QVERIFY(!s.valid);
        QVERIFY(ModernWire::isModern(QStringLiteral("2026-07-28")));
        QVERIFY(!ModernWire::isModern(QStringLiteral("2025-11-25")));
        QVERIFY(!ModernWire::isModern(QStringLiteral("latest")));
        QVERIFY(ModernWire::isModernError(Json{{"code", -32020}}));
        QVERIFY(!ModernWire::isModernError(Json{{"code", -32601}}));
    }
};

QTEST_GUILESS_MAIN(TestModernWire)
#include "TestModernWire.moc"
