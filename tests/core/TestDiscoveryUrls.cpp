#include "discovery/DiscoveryUrls.h"

#include <QTest>

using namespace mcpauth;

namespace {

QStringList strings(const QList<QUrl> &urls)
{
    QStringList out;
    for (const QUrl &u : urls)
        out << u.toString(QUrl::FullyEncoded);
    return out;
}

} // namespace

class TestDiscoveryUrls : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void protectedResourceMetadata_data()
    {
        QTest::addColumn<QString>("mcpUrl");
        QTest::addColumn<QStringList>("expected");

        QTest::newRow("path")
            << u"https://example.com/public/mcp"_qs
            << QStringList{u"https://example.com/.well-known/oauth-protected-resource/public/mcp"_qs,
                           u"https://example.com/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("trailing-slash")
            << u"https://example.com/mcp/"_qs
            << QStringList{u"https://example.com/.well-known/oauth-protected-resource/mcp"_qs,
                           u"https://example.com/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("root") << u"https://example.com/"_qs
                              << QStringList{u"https://example.com/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("no-path") << u"https://example.com"_qs
                                 << QStringList{
                                        u"https://example.com/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("query-dropped")
            << u"https://example.com/mcp?tenant=1#frag"_qs
            << QStringList{u"https://example.com/.well-known/oauth-protected-resource/mcp"_qs,
                           u"https://example.com/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("port-kept")
            << u"http://127.0.0.1:8080/mcp"_qs
            << QStringList{u"http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"_qs,
                           u"http://127.0.0.1:8080/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("encoded-path")
            << u"https://example.com/a%20b/mcp"_qs
            << QStringList{u"https://example.com/.well-known/oauth-protected-resource/a%20b/mcp"_qs,
                           u"https://example.com/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("relative") << u"/mcp"_qs << QStringList{};
    }
    void protectedResourceMetadata()
    {
        QFETCH(QString, mcpUrl);
        QFETCH(QStringList, expected);
        QCOMPARE(strings(DiscoveryUrls::protectedResourceMetadata(QUrl(mcpUrl))), expected);
    }

    void authorizationServerMetadata_data()
    {
        QTest::addColumn<QString>("issuer");
        QTest::addColumn<QStringList>("expected");

        QTest::newRow("with-path")
            << u"https://auth.example.com/tenant1"_qs
            << QStringList{u"https://auth.example.com/.well-known/oauth-authorization-server/tenant1"_qs,
                           u"https://auth.example.com/.well-known/openid-configuration/tenant1"_qs,
                           u"https://auth.example.com/tenant1/.well-known/openid-configuration"_qs};
        QTest::newRow("with-path-trailing-slash")
            << u"https://auth.example.com/tenant1/"_qs
            << QStringList{u"https://auth.example.com/.well-known/oauth-authorization-server/tenant1"_qs,
                           u"https://auth.example.com/.well-known/openid-configuration/tenant1"_qs,
                           u"https://auth.example.com/tenant1/.well-known/openid-configuration"_qs};
        QTest::newRow("deep-path")
            << u"https://auth.example.com/realms/mcp"_qs
            << QStringList{u"https://auth.example.com/.well-known/oauth-authorization-server/realms/mcp"_qs,
                           u"https://auth.example.com/.well-known/openid-configuration/realms/mcp"_qs,
                           u"https://auth.example.com/realms/mcp/.well-known/openid-configuration"_qs};
        QTest::newRow("no-path") << u"https://auth.example.com"_qs
                                 << QStringList{
                                        u"https://auth.example.com/.well-known/oauth-authorization-server"_qs,
                                        u"https://auth.example.com/.well-known/openid-configuration"_qs};
        QTest::newRow("root-slash")
            << u"https://auth.example.com/"_qs
            << QStringList{u"https://auth.example.com/.well-known/oauth-authorization-server"_qs,
                           u"https://auth.example.com/.well-known/openid-configuration"_qs};
        QTest::newRow("port") << u"http://localhost:9000"_qs
                              << QStringList{
                                     u"http://localhost:9000/.well-known/oauth-authorization-server"_qs,
                                     u"http://localhost:9000/.well-known/openid-configuration"_qs};
        QTest::newRow("not-a-url") << u"auth.example.com"_qs << QStringList{};
        QTest::newRow("empty") << QString() << QStringList{};
    }
    void authorizationServerMetadata()
    {
        QFETCH(QString, issuer);
        QFETCH(QStringList, expected);
        QCOMPARE(strings(DiscoveryUrls::authorizationServerMetadata(issuer)), expected);
    }
};

QTEST_GUILESS_MAIN(TestDiscoveryUrls)
#include "TestDiscoveryUrls.moc"
