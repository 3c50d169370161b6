#include "discovery/ProtectedResourceMetadata.h"

#include <QTest>

using namespace mcpauth;

class TestProtectedResourceMetadata : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parsesFullDocument()
    {
        const Json doc = {
            {"resource", "https://mcp.example.com/mcp"},
            {"authorization_servers", {"https://auth.example.com/tenant1", "https://backup.example.com"}},
            {"scopes_supported", {"mcp:read", "mcp:write"}},
            {"bearer_methods_supported", {"header"}},
            {"resource_name", "Example MCP"},
            {"extra", {{"ignored", true}}}};
        const Result<ProtectedResourceMetadata> m = ProtectedResourceMetadata::parse(toBytes(doc));
        QVERIFY2(m.ok(), qPrintable(m.ok() ? QString() : m.error().message));
        QCOMPARE(m->resource, QStringLiteral("https://mcp.example.com/mcp"));
        QCOMPARE(m->authorizationServers,
                 (QStringList{u"https://auth.example.com/tenant1"_qs, u"https://backup.example.com"_qs}));
        QCOMPARE(m->scopesSupported,
                 std::optional<QStringList>(QStringList{u"mcp:read"_qs, u"mcp:write"_qs}));
        QCOMPARE(m->bearerMethodsSupported, QStringList{u"header"_qs});
        QCOMPARE(m->resourceName, QStringLiteral("Example MCP"));
    }

    void scopesAbsentVersusEmpty()
    {
        Json doc = {{"resource", "https://m.example.com"},
                    {"authorization_servers", {"https://a.example.com"}}};
        const auto absent = ProtectedResourceMetadata::parse(toBytes(doc));
        QVERIFY(absent.ok());
        QVERIFY(!absent->scopesSupported.has_value());
        doc["scopes_supported"] = Json::array();
        const auto empty = ProtectedResourceMetadata::parse(toBytes(doc));
        QVERIFY(empty.ok());
        QVERIFY(empty->scopesSupported.has_value());
        QVERIFY(empty->scopesSupported->isEmpty());
    }

    void refuses_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("code");

        const Json servers = {"https://a.example.com"};
        const auto doc = [](const Json &resource, const Json &authorizationServers) {
            Json d = Json::object();
            if (!resource.is_null())
                d["resource"] = resource;
            if (!authorizationServers.is_null())
                d["authorization_servers"] = authorizationServers;
            return toBytes(d);
        };
        QTest::newRow("not-json") << QByteArrayLiteral("<html>") << u"invalid_json"_qs;
        QTest::newRow("array") << QByteArrayLiteral("[]") << u"invalid_json"_qs;
        QTest::newRow("empty") << QByteArray() << u"invalid_json"_qs;
        QTest::newRow("no-resource") << doc(nullptr, servers) << u"invalid_metadata"_qs;
        QTest::newRow("resource-relative") << doc("/mcp", servers) << u"invalid_metadata"_qs;
        QTest::newRow("resource-not-string") << doc(1, servers) << u"invalid_metadata"_qs;
        QTest::newRow("no-servers") << doc("https://m.example.com", nullptr) << u"invalid_metadata"_qs;
        QTest::newRow("servers-empty")
            << doc("https://m.example.com", Json::array()) << u"invalid_metadata"_qs;
        QTest::newRow("servers-string")
            << doc("https://m.example.com", "https://a.example.com") << u"invalid_metadata"_qs;
        QTest::newRow("server-not-url") << doc("https://m.example.com", {"auth"}) << u"invalid_metadata"_qs;
        QTest::newRow("server-not-string")
            << doc("https://m.example.com", Json::array({Json::object()})) << u"invalid_metadata"_qs;
    }
    void refuses()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, code);
        const Result<ProtectedResourceMetadata> m = ProtectedResourceMetadata::parse(body);
        QVERIFY(!m.ok());
        QCOMPARE(m.error().code, code);
        QCOMPARE(m.error().category, Error::Category::Protocol);
    }

    void roundTripsThroughJson()
    {
        ProtectedResourceMetadata m;
        m.resource = QStringLiteral("https://mcp.example.com/mcp");
        m.authorizationServers = {QStringLiteral("https://auth.example.com")};
        m.scopesSupported = QStringList{QStringLiteral("a"), QStringLiteral("b")};
        m.bearerMethodsSupported = {QStringLiteral("header")};
        m.resourceName = QStringLiteral("Example");
        const Result<ProtectedResourceMetadata> back = ProtectedResourceMetadata::fromJson(m.toJson());
        QVERIFY(back.ok());
        QCOMPARE(back->resource, m.resource);
        QCOMPARE(back->authorizationServers, m.authorizationServers);
        QCOMPARE(back->scopesSupported, m.scopesSupported);
        QCOMPARE(back->bearerMethodsSupported, m.bearerMethodsSupported);
        QCOMPARE(back->resourceName, m.resourceName);

        m.scopesSupported.reset();
        const Result<ProtectedResourceMetadata> noScopes = ProtectedResourceMetadata::fromJson(m.toJson());
        QVERIFY(noScopes.ok());
        QVERIFY(!noScopes->scopesSupported.has_value());
    }
};

QTEST_GUILESS_MAIN(TestProtectedResourceMetadata)
#include "TestProtectedResourceMetadata.moc"
