#include "discovery/ResourceUri.h"

#include <QTest>

using namespace mcpauth;

class TestResourceUri : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void canonical_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("expected"); // empty: invalid_resource

        QTest::newRow("plain") << u"https://mcp.example.com/mcp"_qs << u"https://mcp.example.com/mcp"_qs;
        QTest::newRow("uppercase-host-scheme")
            << u"HTTPS://MCP.Example.COM/Mcp"_qs << u"https://mcp.example.com/Mcp"_qs;
        QTest::newRow("default-https-port")
            << u"https://mcp.example.com:443/mcp"_qs << u"https://mcp.example.com/mcp"_qs;
        QTest::newRow("default-http-port") << u"http://127.0.0.1:80/mcp"_qs << u"http://127.0.0.1/mcp"_qs;
        QTest::newRow("other-port") << u"https://mcp.example.com:8443/mcp"_qs
                                    << u"https://mcp.example.com:8443/mcp"_qs;
        QTest::newRow("port-443-on-http") << u"http://localhost:443/"_qs << u"http://localhost:443"_qs;
        QTest::newRow("fragment") << u"https://mcp.example.com/mcp#section"_qs
                                  << u"https://mcp.example.com/mcp"_qs;
        QTest::newRow("trailing-slash")
            << u"https://mcp.example.com/mcp/"_qs << u"https://mcp.example.com/mcp"_qs;
        QTest::newRow("root-slash") << u"https://mcp.example.com/"_qs << u"https://mcp.example.com"_qs;
        QTest::newRow("root-bare") << u"https://mcp.example.com"_qs << u"https://mcp.example.com"_qs;
        QTest::newRow("query-kept") << u"https://mcp.example.com/mcp?tenant=a&x=1"_qs
                                    << u"https://mcp.example.com/mcp?tenant=a&x=1"_qs;
        QTest::newRow("query-and-fragment")
            << u"https://mcp.example.com/mcp/?t=1#f"_qs << u"https://mcp.example.com/mcp?t=1"_qs;
        QTest::newRow("encoded-path-kept")
            << u"https://mcp.example.com/a%20b/mcp"_qs << u"https://mcp.example.com/a%20b/mcp"_qs;
        QTest::newRow("ipv6") << u"http://[::1]:3000/mcp"_qs << u"http://[::1]:3000/mcp"_qs;
        QTest::newRow("invalid-relative") << u"/mcp"_qs << QString();
        QTest::newRow("invalid-no-scheme") << u"mcp.example.com"_qs << QString();
        QTest::newRow("invalid-scheme") << u"ftp://mcp.example.com/mcp"_qs << QString();
        QTest::newRow("invalid-userinfo") << u"https://user:pw@mcp.example.com/mcp"_qs << QString();
        QTest::newRow("invalid-user-only") << u"https://user@mcp.example.com/mcp"_qs << QString();
        QTest::newRow("invalid-empty") << QString() << QString();
        QTest::newRow("invalid-no-host") << u"https:///mcp"_qs << QString();
    }
    void canonical()
    {
        QFETCH(QString, input);
        QFETCH(QString, expected);
        const Result<QUrl> r = ResourceUri::canonical(QUrl(input));
        if (expected.isEmpty()) {
            QVERIFY(!r.ok());
            QCOMPARE(r.error().code, QStringLiteral("invalid_resource"));
            QCOMPARE(r.error().category, Error::Category::Config);
            return;
        }
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QCOMPARE(ResourceUri::toString(*r), expected);
        // Canonicalising is idempotent.
        QCOMPARE(ResourceUri::toString(*ResourceUri::canonical(*r)), expected);
    }

    void toStringIsEncoded()
    {
        const Result<QUrl> r = ResourceUri::canonical(QUrl(QStringLiteral("https://mcp.example.com/a b")));
        QVERIFY(r.ok());
        QCOMPARE(ResourceUri::toString(*r), QStringLiteral("https://mcp.example.com/a%20b"));
    }

    void sameResource_data()
    {
        QTest::addColumn<QString>("published");
        QTest::addColumn<QString>("mcpUrl");
        QTest::addColumn<bool>("same");

        QTest::newRow("identical") << u"https://mcp.example.com/mcp"_qs << u"https://mcp.example.com/mcp"_qs
                                   << true;
        QTest::newRow("trailing-slash")
            << u"https://mcp.example.com/mcp/"_qs << u"https://mcp.example.com/mcp"_qs << true;
        QTest::newRow("case-and-port")
            << u"HTTPS://MCP.example.com:443/mcp"_qs << u"https://mcp.example.com/mcp"_qs << true;
        QTest::newRow("root-slash") << u"https://mcp.example.com/"_qs << u"https://mcp.example.com"_qs
                                    << true;
        QTest::newRow("other-host") << u"https://evil.example.com/mcp"_qs << u"https://mcp.example.com/mcp"_qs
                                    << false;
        QTest::newRow("other-path") << u"https://mcp.example.com/other"_qs
                                    << u"https://mcp.example.com/mcp"_qs << false;
        QTest::newRow("path-case") << u"https://mcp.example.com/MCP"_qs << u"https://mcp.example.com/mcp"_qs
                                   << false;
        QTest::newRow("prefix-only") << u"https://mcp.example.com"_qs << u"https://mcp.example.com/mcp"_qs
                                     << false;
        QTest::newRow("other-scheme")
            << u"http://mcp.example.com/mcp"_qs << u"https://mcp.example.com/mcp"_qs << false;
        QTest::newRow("other-port") << u"https://mcp.example.com:8443/mcp"_qs
                                    << u"https://mcp.example.com/mcp"_qs << false;
        QTest::newRow("garbage") << u"not a url"_qs << u"https://mcp.example.com/mcp"_qs << false;
        QTest::newRow("empty") << QString() << u"https://mcp.example.com/mcp"_qs << false;
    }
    void sameResource()
    {
        QFETCH(QString, published);
        QFETCH(QString, mcpUrl);
        QFETCH(bool, same);
        const Result<QUrl> canonical = ResourceUri::canonical(QUrl(mcpUrl));
        QVERIFY(canonical.ok());
        QCOMPARE(ResourceUri::sameResource(published, *canonical), same);
    }
};

QTEST_GUILESS_MAIN(TestResourceUri)
#include "TestResourceUri.moc"
