#include "proxy/ProxyOptions.h"

#include <QTemporaryDir>
#include <QTest>

using namespace mcpauth;

namespace {

const QString kUrl = QStringLiteral("https://mcp.example.com/mcp");

ProxyOptions::EnvLookup env()
{
    return [](const QString &name) -> std::optional<QString> {
        if (name == QLatin1String("TOKEN"))
            return QStringLiteral("s3cret");
        if (name == QLatin1String("CID"))
            return QStringLiteral("client-from-env");
        return std::nullopt;
    };
}

Result<ProxyOptions> parse(QStringList args)
{
    return ProxyOptions::parse(args, env());
}

} // namespace

class TestProxyOptions : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void defaults()
    {
        const Result<ProxyOptions> o = parse({kUrl});
        QVERIFY(o.ok());
        QCOMPARE(o->serverUrl, QUrl(kUrl));
        QVERIFY(!o->callbackPort);
        QVERIFY(o->headers.isEmpty());
        QCOMPARE(o->transport, ProxyOptions::TransportMode::HttpFirst);
        QVERIFY(!o->hasServerConfig());
        QVERIFY(o->warnings.isEmpty());
    }

    void callbackPortIsAcceptedAndIgnored()
    {
        const Result<ProxyOptions> o = parse({kUrl, QStringLiteral("3334"), QStringLiteral("--debug")});
        QVERIFY(o.ok());
        QCOMPARE(*o->callbackPort, 3334);
        QVERIFY(o->debug);
        QVERIFY(!parse({kUrl, QStringLiteral("not-a-port")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("70000")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("1"), QStringLiteral("2")}).ok());
    }

    void headersAreRepeatableAndExpandTheEnvironment()
    {
        const Result<ProxyOptions> o =
            parse({kUrl, QStringLiteral("--header"), QStringLiteral("Authorization: Bearer ${TOKEN}"),
                   QStringLiteral("--header"), QStringLiteral("X-Empty:"), QStringLiteral("--header"),
                   QStringLiteral("X-Unset: a${NOPE}b")});
        QVERIFY(o.ok());
        QCOMPARE(o->headers.size(), 3);
        QCOMPARE(o->headers.at(0).first, QByteArray("Authorization"));
        QCOMPARE(o->headers.at(0).second, QByteArray("Bearer s3cret"));
        QCOMPARE(o->headers.at(1).second, QByteArray());
        // mcp-remote 0.15.1 leaves an unset ${VAR} as written and warns.
        QCOMPARE(o->headers.at(2).second, QByteArray("a${NOPE}b"));
        QCOMPARE(o->warnings.size(), 1);
        QVERIFY(o->warnings.first().contains(QLatin1String("NOPE")));
    }

    void malformedHeadersAreRefused_data()
    {
        QTest::addColumn<QString>("header");
        QTest::newRow("no colon") << QStringLiteral("Authorization Bearer x");
        QTest::newRow("space in name") << QStringLiteral("X Y: z");
        QTest::newRow("empty name") << QStringLiteral(": z");
        QTest::newRow("line break") << QStringLiteral("X-A: b\r\nX-B: c");
    }
    void malformedHeadersAreRefused()
    {
        QFETCH(QString, header);
        const Result<ProxyOptions> o = parse({kUrl, QStringLiteral("--header"), header});
        QVERIFY(!o.ok());
        QCOMPARE(o.error().code, QStringLiteral("usage"));
    }

    void headerFile()
    {
        QTemporaryDir dir;
        QFile f(dir.filePath(QStringLiteral("h.txt")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("# comment\n\nX-One: 1\nX-Two: ${TOKEN}\n");
        f.close();
        const Result<ProxyOptions> o = parse({kUrl, QStringLiteral("--header-file"), f.fileName()});
        QVERIFY(o.ok());
        QCOMPARE(o->headers.size(), 2);
        QCOMPARE(o->headers.at(1).second, QByteArray("s3cret"));
    }

    void transportModes_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<int>("mode");
        QTest::newRow("http-first") << QStringLiteral("http-first")
                                    << int(ProxyOptions::TransportMode::HttpFirst);
        QTest::newRow("sse-first") << QStringLiteral("sse-first")
                                   << int(ProxyOptions::TransportMode::SseFirst);
        QTest::newRow("http-only") << QStringLiteral("http-only")
                                   << int(ProxyOptions::TransportMode::HttpOnly);
        QTest::newRow("sse-only") << QStringLiteral("sse-only") << int(ProxyOptions::TransportMode::SseOnly);
    }
    void transportModes()
    {
        QFETCH(QString, value);
        QFETCH(int, mode);
        const Result<ProxyOptions> o = parse({QStringLiteral("--transport"), value, kUrl});
        QVERIFY(o.ok());
        QCOMPARE(int(o->transport), mode);
        QVERIFY(!parse({kUrl, QStringLiteral("--transport"), QStringLiteral("websocket")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("--transport")}).ok());
    }

    void clientInfoAndMetadataFromJsonOrFile()
    {
        QTemporaryDir dir;
        QFile f(dir.filePath(QStringLiteral("meta.json")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"client_name":"My Host","scope":"a b"})");
        f.close();
        const Result<ProxyOptions> o =
            parse({kUrl, QStringLiteral("--static-oauth-client-info"),
                   QStringLiteral(R"({"client_id":"${CID}","client_secret":"${TOKEN}"})"),
                   QStringLiteral("--static-oauth-client-metadata"), QLatin1Char('@') + f.fileName()});
        QVERIFY(o.ok());
        QCOMPARE(jsonString(o->clientInfo, "client_id"), QStringLiteral("client-from-env"));
        QCOMPARE(jsonString(o->clientInfo, "client_secret"), QStringLiteral("s3cret"));
        QCOMPARE(jsonString(o->clientMetadata, "client_name"), QStringLiteral("My Host"));
        QVERIFY(o->hasServerConfig());
        const Json p = o->serverConfigureParams();
        QCOMPARE(jsonString(p, "resource"), kUrl);
        QCOMPARE(jsonString(p["clientInfo"], "client_id"), QStringLiteral("client-from-env"));
        QCOMPARE(jsonString(p["clientMetadata"], "scope"), QStringLiteral("a b"));
        QVERIFY(!p.contains("allowHttp"));
    }

    void badJsonOptionsAreRefused_data()
    {
        QTest::addColumn<QString>("option");
        QTest::addColumn<QString>("value");
        QTest::newRow("info not json")
            << QStringLiteral("--static-oauth-client-info") << QStringLiteral("{oops");
        QTest::newRow("info array") << QStringLiteral("--static-oauth-client-info") << QStringLiteral("[1]");
        QTest::newRow("info no client_id")
            << QStringLiteral("--static-oauth-client-info") << QStringLiteral(R"({"client_secret":"x"})");
        QTest::newRow("metadata missing file")
            << QStringLiteral("--static-oauth-client-metadata") << QStringLiteral("@/nonexistent/file.json");
    }
    void badJsonOptionsAreRefused()
    {
        QFETCH(QString, option);
        QFETCH(QString, value);
        QVERIFY(!parse({kUrl, option, value}).ok());
    }

    void clientMetadataUrlResourceAuthorizeParams()
    {
        const Result<ProxyOptions> o = parse(
            {kUrl, QStringLiteral("--client-metadata-url"), QStringLiteral("https://app.example/client.json"),
             QStringLiteral("--resource"), QStringLiteral("https://api.example.com/"),
             QStringLiteral("--authorize-param"), QStringLiteral("audience=https://api.example.com"),
             QStringLiteral("--authorize-param"), QStringLiteral("prompt=consent")});
        QVERIFY(o.ok());
        const Json p = o->serverConfigureParams();
        QCOMPARE(jsonString(p, "clientMetadataUrl"), QStringLiteral("https://app.example/client.json"));
        QCOMPARE(jsonString(p, "resourceOverride"), QStringLiteral("https://api.example.com/"));
        QCOMPARE(jsonString(p["authorizeParams"], "audience"), QStringLiteral("https://api.example.com"));
        QCOMPARE(jsonString(p["authorizeParams"], "prompt"), QStringLiteral("consent"));

        QVERIFY(!parse({kUrl, QStringLiteral("--client-metadata-url"),
                        QStringLiteral("http://app.example/c.json")})
                     .ok());
        QVERIFY(
            !parse({kUrl, QStringLiteral("--client-metadata-url"), QStringLiteral("https://app.example/")})
                 .ok());
        QVERIFY(!parse({kUrl, QStringLiteral("--resource"), QStringLiteral("relative/path")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("--authorize-param"), QStringLiteral("novalue")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("--authorize-param"), QStringLiteral("=x")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("--authorize-param"), QStringLiteral("state=x")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("--authorize-param"), QStringLiteral("code_challenge=x")}).ok());
    }

    void plainHttpNeedsAllowHttpExceptOnLoopback_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("allowed");
        QTest::newRow("remote http") << QStringLiteral("http://mcp.example.com/mcp") << false;
        QTest::newRow("localhost") << QStringLiteral("http://localhost:3000/mcp") << true;
        QTest::newRow("127.0.0.1") << QStringLiteral("http://127.0.0.1:3000/mcp") << true;
        QTest::newRow("::1") << QStringLiteral("http://[::1]:3000/mcp") << true;
        QTest::newRow("lan") << QStringLiteral("http://192.168.1.5/mcp") << false;
        QTest::newRow("https") << QStringLiteral("https://mcp.example.com/mcp") << true;
    }
    void plainHttpNeedsAllowHttpExceptOnLoopback()
    {
        QFETCH(QString, url);
        QFETCH(bool, allowed);
        const Result<ProxyOptions> o = parse({url});
        QCOMPARE(o.ok(), allowed);
        if (!allowed)
            QVERIFY(o.error().message.contains(QLatin1String("--allow-http")));
        const Result<ProxyOptions> withFlag = parse({url, QStringLiteral("--allow-http")});
        QVERIFY(withFlag.ok());
        QVERIFY(withFlag->allowHttp);
        // The flag is the proxy's own link to the server; the agent never speaks plain HTTP off loopback.
        QVERIFY(!withFlag->serverConfigureParams().contains("allowHttp"));
    }

    void badUrls()
    {
        QVERIFY(!parse({}).ok());
        QVERIFY(!parse({QStringLiteral("ftp://x/y")}).ok());
        QVERIFY(!parse({QStringLiteral("not a url")}).ok());
        QVERIFY(!parse({QStringLiteral("--allow-http")}).ok());
    }

    void ignoreToolGlobs()
    {
        const Result<ProxyOptions> o =
            parse({kUrl, QStringLiteral("--ignore-tool"), QStringLiteral("delete*"),
                   QStringLiteral("--ignore-tool"), QStringLiteral("*admin*"),
                   QStringLiteral("--ignore-tool"), QStringLiteral("a.b")});
        QVERIFY(o.ok());
        QVERIFY(o->isToolIgnored(QStringLiteral("delete_file")));
        QVERIFY(o->isToolIgnored(QStringLiteral("DELETE")));
        QVERIFY(o->isToolIgnored(QStringLiteral("superadminTool")));
        QVERIFY(o->isToolIgnored(QStringLiteral("a.b")));
        QVERIFY(!o->isToolIgnored(QStringLiteral("axb"))); // `.` is literal
        QVERIFY(!o->isToolIgnored(QStringLiteral("undelete")));
        QVERIFY(!o->isToolIgnored(QStringLiteral("read")));
        QVERIFY(!o->hasServerConfig());
    }

    void mcpRemoteExtrasAreAcceptedOrRefused()
    {
        const Result<ProxyOptions> o = parse(
            {kUrl, QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--callback-path"),
             QStringLiteral("/cb"), QStringLiteral("--auth-timeout"), QStringLiteral("45"),
             QStringLiteral("--silent"), QStringLiteral("--enable-proxy"),
             QStringLiteral("--connect-timeout"), QStringLiteral("5"), QStringLiteral("--keep-alive"),
             QStringLiteral("--future-flag"), QStringLiteral("--future-option"), QStringLiteral("value")});
        QVERIFY(o.ok());
        QCOMPARE(o->authTimeoutSeconds, 45);
        QVERIFY(o->silent);
        QVERIFY(o->enableProxy);
        QCOMPARE(o->warnings.size(), 4); // connect-timeout, keep-alive, two unknown
        QVERIFY(!parse({kUrl, QStringLiteral("--auth-timeout"), QStringLiteral("soon")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("--auth-timeout"), QStringLiteral("0")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("--device-code")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("--client-credentials")}).ok());
        QVERIFY(!parse({kUrl, QStringLiteral("--allow-http=yes")}).ok());
        // An unknown option before the URL does not eat it.
        const Result<ProxyOptions> first = parse({QStringLiteral("--something"), kUrl});
        QVERIFY(first.ok());
        QCOMPARE(first->serverUrl, QUrl(kUrl));
        // --name=value works too.
        const Result<ProxyOptions> eq = parse({kUrl, QStringLiteral("--transport=sse-only")});
        QVERIFY(eq.ok());
        QCOMPARE(eq->transport, ProxyOptions::TransportMode::SseOnly);
    }

    void help()
    {
        const Result<ProxyOptions> o = parse({QStringLiteral("--help")});
        QVERIFY(o.ok());
        QVERIFY(o->help);
    }
};

QTEST_GUILESS_MAIN(TestProxyOptions)
#include "TestProxyOptions.moc"
