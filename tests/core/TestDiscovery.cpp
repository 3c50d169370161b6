#include "TestHttpServer.h"
#include "discovery/Discovery.h"
#include "discovery/ResourceUri.h"

#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

namespace {

/// What one discovery run produced: the result and how many times finished() fired.
struct Outcome
{
    std::optional<Result<DiscoveryResult>> result;
    int emissions = 0;

    const Error &error() const { return result->error(); }
};

QString fill(QString text, const TestHttpServer &server)
{
    return text.replace(QStringLiteral("{base}"), server.base());
}

/// A protected resource metadata document naming `resource` and one issuer; `marker` tells the
/// documents apart (resource_name).
TestResponse prmDoc(const QString &resource, const QString &issuer, const QString &marker)
{
    const Json doc = {{"resource", toStd(resource)},
                      {"authorization_servers", {toStd(issuer)}},
                      {"scopes_supported", {"mcp:read"}},
                      {"resource_name", toStd(marker)}};
    return TestResponse::json(toBytes(doc));
}

/// Valid authorization server metadata for `issuer`; `marker` ends up in the authorization endpoint.
Json asJson(const QString &issuer, const QString &base, const QString &marker)
{
    return Json{{"issuer", toStd(issuer)},
                {"authorization_endpoint", toStd(base + QStringLiteral("/authorize/") + marker)},
                {"token_endpoint", toStd(base + QStringLiteral("/token"))},
                {"registration_endpoint", toStd(base + QStringLiteral("/register"))},
                {"response_types_supported", {"code"}},
                {"code_challenge_methods_supported", {"S256"}}};
}

} // namespace

class TestDiscovery : public QObject
{
    Q_OBJECT
private:
    QNetworkAccessManager m_nam;

    HttpClient client(int timeoutMs = 3000)
    {
        HttpClient::Options options;
        options.timeoutMs = timeoutMs;
        return HttpClient(&m_nam, options);
    }

    /// Runs discovery to its end and waits a little longer to catch a second emission.
    Outcome run(Discovery &discovery)
    {
        Outcome out;
        connect(&discovery, &Discovery::finished, this, [&out](const Result<DiscoveryResult> &r) {
            ++out.emissions;
            out.result.emplace(r);
        });
        discovery.start();
        (void)QTest::qWaitFor([&] { return out.result.has_value(); }, 10000);
        QTest::qWait(10);
        if (!out.result)
            out.result.emplace(Error::internal(QStringLiteral("test: discovery did not finish")));
        return out;
    }

    /// Installs "path=role" routes. Roles: prm:M (resource = MCP URL), prmorigin:M (resource =
    /// origin), as:M (valid metadata for the issuer), 404 is the default for anything unrouted.
    void install(TestHttpServer &server, const QString &mcpPath, const QString &challenge,
                 const QString &issuer, const QStringList &routes)
    {
        const QString base = server.base();
        const QString mcpUrl = base + mcpPath;
        const QByteArray header = fill(challenge, server).toUtf8();
        server.route(mcpPath, [header](const TestRequest &) {
            TestResponse r = TestResponse::json(QByteArrayLiteral(R"({"error":"unauthorized"})"), 401);
            if (!header.isEmpty())
                r.withHeader("WWW-Authenticate", header);
            return r;
        });
        for (const QString &route : routes) {
            const QString path = route.section(QLatin1Char('='), 0, 0);
            const QString role = route.section(QLatin1Char('='), 1);
            const QString kind = role.section(QLatin1Char(':'), 0, 0);
            const QString marker = role.section(QLatin1Char(':'), 1);
            if (kind == QLatin1String("prm"))
                server.route(path, [=](const TestRequest &) { return prmDoc(mcpUrl, issuer, marker); });
            else if (kind == QLatin1String("prmorigin"))
                server.route(path, [=](const TestRequest &) { return prmDoc(base, issuer, marker); });
            else if (kind == QLatin1String("as"))
                server.route(path, [=](const TestRequest &) {
                    return TestResponse::json(toBytes(asJson(issuer, base, marker)));
                });
        }
    }

private Q_SLOTS:
    // Every URL order of MCP 2025-11-25 "Authorization Server Discovery", each with traps: a URL the
    // client must not use (or must not reach) answers with a valid but different document.
    void specOrder_data()
    {
        QTest::addColumn<QString>("mcpPath");
        QTest::addColumn<QString>("challenge");
        QTest::addColumn<QString>("issuerPath");
        QTest::addColumn<QStringList>("routes");
        QTest::addColumn<QStringList>("expectedPaths");

        const QString prmPath = QStringLiteral("/.well-known/oauth-protected-resource/mcp");
        const QString prmRoot = QStringLiteral("/.well-known/oauth-protected-resource");
        const QString oauthRoot = QStringLiteral("/.well-known/oauth-authorization-server");
        const QString oidcRoot = QStringLiteral("/.well-known/openid-configuration");
        const QString oauthT = QStringLiteral("/.well-known/oauth-authorization-server/tenant1");
        const QString oidcT = QStringLiteral("/.well-known/openid-configuration/tenant1");
        const QString tOidc = QStringLiteral("/tenant1/.well-known/openid-configuration");
        const auto r = [](const QString &path, const char *role) -> QString {
            return path + QLatin1Char('=') + QLatin1String(role);
        };

        // conformance auth/metadata-default: PRM from the header; root PRM is a trap.
        QTest::newRow("header-url-then-rfc8414-root")
            << u"/mcp"_qs
            << u"Bearer resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""_qs << QString()
            << QStringList{r(prmPath, "prm:right"), r(prmRoot, "prm:trap"), r(oauthRoot, "as:right"),
                           r(oidcRoot, "as:trap")}
            << QStringList{u"/mcp"_qs, prmPath, oauthRoot};
        // Header URL wins over a path-aware document that also exists.
        QTest::newRow("header-custom-url-beats-well-known")
            << u"/mcp"_qs << u"Bearer realm=\"mcp\", resource_metadata=\"{base}/custom/prm\""_qs << QString()
            << QStringList{r(u"/custom/prm"_qs, "prm:right"), r(prmPath, "prm:trap"), r(prmRoot, "prm:trap"),
                           r(oauthRoot, "as:right")}
            << QStringList{u"/mcp"_qs, u"/custom/prm"_qs, oauthRoot};
        // conformance auth/metadata-var1: no header → path-aware first (root is a trap); AS only at OIDC.
        QTest::newRow("path-aware-before-root-then-oidc-root")
            << u"/mcp"_qs << u"Bearer realm=\"mcp\""_qs << QString()
            << QStringList{r(prmPath, "prm:right"), r(prmRoot, "prm:trap"), r(oidcRoot, "as:right")}
            << QStringList{u"/mcp"_qs, prmPath, oauthRoot, oidcRoot};
        // conformance auth/metadata-var2: path-aware 404 → root (resource = origin); issuer with path →
        // RFC 8414 path insertion; root AS metadata and the OIDC URLs are traps.
        QTest::newRow("root-fallback-then-rfc8414-path-insertion")
            << u"/mcp"_qs << QString() << u"/tenant1"_qs
            << QStringList{r(prmRoot, "prmorigin:right"), r(oauthT, "as:right"),   r(oidcT, "as:trap"),
                           r(tOidc, "as:trap"),           r(oauthRoot, "as:trap"), r(oidcRoot, "as:trap")}
            << QStringList{u"/mcp"_qs, prmPath, prmRoot, oauthT};
        // OIDC path insertion is second; path appending and the root URLs are traps.
        QTest::newRow("oidc-path-insertion-second")
            << u"/mcp"_qs << QString() << u"/tenant1"_qs
            << QStringList{r(prmPath, "prm:right"), r(oidcT, "as:right"), r(tOidc, "as:trap"),
                           r(oauthRoot, "as:trap"), r(oidcRoot, "as:trap")}
            << QStringList{u"/mcp"_qs, prmPath, oauthT, oidcT};
        // conformance auth/metadata-var3: header URL, AS only at OIDC path appending (third).
        QTest::newRow("oidc-path-appending-third")
            << u"/mcp"_qs << u"Bearer resource_metadata=\"{base}/custom/prm\""_qs << u"/tenant1"_qs
            << QStringList{r(u"/custom/prm"_qs, "prm:right"), r(prmRoot, "prm:trap"), r(tOidc, "as:right"),
                           r(oauthRoot, "as:trap"), r(oidcRoot, "as:trap")}
            << QStringList{u"/mcp"_qs, u"/custom/prm"_qs, oauthT, oidcT, tOidc};
        // Issuer without path: RFC 8414 before OIDC even when both answer.
        QTest::newRow("rfc8414-before-oidc")
            << u"/mcp"_qs << QString() << QString()
            << QStringList{r(prmPath, "prm:right"), r(oauthRoot, "as:right"), r(oidcRoot, "as:trap")}
            << QStringList{u"/mcp"_qs, prmPath, oauthRoot};
        // MCP server at the root: the path-aware URL is "not applicable".
        QTest::newRow("mcp-at-root") << u"/"_qs << QString() << QString()
                                     << QStringList{r(prmRoot, "prm:right"), r(oauthRoot, "as:right")}
                                     << QStringList{u"/"_qs, prmRoot, oauthRoot};
        // Trailing slash in the issuer path is not part of the well-known URL.
        QTest::newRow("issuer-trailing-slash") << u"/mcp"_qs << QString() << u"/tenant1/"_qs
                                               << QStringList{r(prmPath, "prm:right"), r(oauthT, "as:right")}
                                               << QStringList{u"/mcp"_qs, prmPath, oauthT};
    }
    void specOrder()
    {
        QFETCH(QString, mcpPath);
        QFETCH(QString, challenge);
        QFETCH(QString, issuerPath);
        QFETCH(QStringList, routes);
        QFETCH(QStringList, expectedPaths);

        TestHttpServer server;
        QVERIFY(server.listen());
        const QString issuer = server.base() + issuerPath;
        install(server, mcpPath, challenge, issuer, routes);

        const HttpClient http = client();
        Discovery discovery(http, server.url(mcpPath));
        const Outcome out = run(discovery);
        QVERIFY2(out.result->ok(), qPrintable(out.result->ok() ? QString() : out.error().message));
        QCOMPARE(out.emissions, 1);
        QCOMPARE(discovery.state(), Discovery::State::Done);
        QCOMPARE(server.requestedPaths(), expectedPaths);

        const DiscoveryResult &d = out.result->value();
        QCOMPARE(d.prm.resourceName, QStringLiteral("right"));
        QCOMPARE(d.issuer, issuer);
        QCOMPARE(d.metadata.issuer, issuer);
        QCOMPARE(d.metadata.authorizationEndpoint.path(), QStringLiteral("/authorize/right"));
        QCOMPARE(d.prmUrl.path(), expectedPaths.at(1 + expectedPaths.mid(1).indexOf(d.prmUrl.path())));
        QCOMPARE(d.asMetadataUrl.path(), expectedPaths.constLast());
        QCOMPARE(ResourceUri::toString(d.resource),
                 ResourceUri::toString(*ResourceUri::canonical(server.url(mcpPath))));
        QCOMPARE(d.challenge.present, !challenge.isEmpty());
    }

    void probeRequestShape()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, u"Bearer scope=\"mcp:read mcp:write\""_qs, server.base(),
                {u"/.well-known/oauth-protected-resource/mcp=prm:right"_qs,
                 u"/.well-known/oauth-authorization-server=as:right"_qs});
        const HttpClient http = client();
        Discovery discovery(http, QUrl(server.base() + u"/mcp#fragment"_qs));
        const Outcome out = run(discovery);
        QVERIFY(out.result->ok());
        QCOMPARE(out.result->value().challenge.scope, QStringLiteral("mcp:read mcp:write"));

        const TestRequest &probe = server.requests().at(0);
        QCOMPARE(probe.method, QByteArray("POST"));
        QCOMPARE(probe.path, QStringLiteral("/mcp"));
        QCOMPARE(probe.header("Content-Type"), QByteArray("application/json"));
        QCOMPARE(probe.header("Accept"), QByteArray("application/json, text/event-stream"));
        QCOMPARE(probe.header("MCP-Protocol-Version"), QByteArray("2025-11-25"));
        QVERIFY(probe.header("Authorization").isEmpty());
        const Result<Json> body = parseJsonObject(probe.body, QStringLiteral("probe"));
        QVERIFY(body.ok());
        QCOMPARE(jsonString(*body, "method"), QStringLiteral("initialize"));
        QCOMPARE(jsonString(*body, "jsonrpc"), QStringLiteral("2.0"));
        QCOMPARE(jsonString(body->at("params"), "protocolVersion"), QStringLiteral("2025-11-25"));
        QCOMPARE(jsonString(body->at("params").at("clientInfo"), "name"), QStringLiteral("mcp-auth-agent"));

        const TestRequest &prm = server.requests().at(1);
        QCOMPARE(prm.method, QByteArray("GET"));
        QCOMPARE(prm.header("MCP-Protocol-Version"), QByteArray("2025-11-25"));
    }

    void headerUrlHasNoFallback()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, u"Bearer resource_metadata=\"{base}/missing/prm\""_qs, server.base(),
                {u"/.well-known/oauth-protected-resource/mcp=prm:trap"_qs,
                 u"/.well-known/oauth-protected-resource=prm:trap"_qs,
                 u"/.well-known/oauth-authorization-server=as:trap"_qs});
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().code, QStringLiteral("no_resource_metadata"));
        QVERIFY(out.error().message.contains(QLatin1String("/missing/prm")));
        QCOMPARE(server.requestedPaths(), (QStringList{u"/mcp"_qs, u"/missing/prm"_qs}));
        QCOMPARE(discovery.state(), Discovery::State::Failed);
    }

    // MCP 2025-03-26 back-compat (conformance auth/2025-03-26-oauth-metadata-backcompat): no PRM at
    // any well-known URL and no resource_metadata in the challenge → the origin is the issuer.
    void legacyOriginIssuer()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, u"Bearer"_qs, server.base(),
                {u"/.well-known/oauth-authorization-server=as:origin"_qs});
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY2(out.result->ok(), qPrintable(out.result->ok() ? QString() : out.error().message));
        const DiscoveryResult &d = out.result->value();
        QCOMPARE(d.issuer, server.base());
        QVERIFY(d.legacyIssuer);
        QVERIFY(!d.legacyEndpoints);
        QCOMPARE(d.metadata.authorizationEndpoint, QUrl(server.base() + u"/authorize/origin"_qs));
        QCOMPARE(d.prm.authorizationServers, QStringList{server.base()});
        QCOMPARE(server.requestedPaths(),
                 (QStringList{u"/mcp"_qs, u"/.well-known/oauth-protected-resource/mcp"_qs,
                              u"/.well-known/oauth-protected-resource"_qs,
                              u"/.well-known/oauth-authorization-server"_qs}));
    }

    // ...and without AS metadata either (auth/2025-03-26-oauth-endpoint-fallback): default endpoints.
    void legacyDefaultEndpoints()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(), {});
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY2(out.result->ok(), qPrintable(out.result->ok() ? QString() : out.error().message));
        const DiscoveryResult &d = out.result->value();
        QVERIFY(d.legacyIssuer);
        QVERIFY(d.legacyEndpoints);
        QCOMPARE(d.issuer, server.base());
        QCOMPARE(d.metadata.authorizationEndpoint, QUrl(server.base() + u"/authorize"_qs));
        QCOMPARE(d.metadata.tokenEndpoint, QUrl(server.base() + u"/token"_qs));
        QCOMPARE(d.metadata.registrationEndpoint, QUrl(server.base() + u"/register"_qs));
        QCOMPARE(d.metadata.codeChallengeMethodsSupported,
                 std::optional<QStringList>(QStringList{u"S256"_qs}));
        QCOMPARE(server.requestedPaths(),
                 (QStringList{u"/mcp"_qs, u"/.well-known/oauth-protected-resource/mcp"_qs,
                              u"/.well-known/oauth-protected-resource"_qs,
                              u"/.well-known/oauth-authorization-server"_qs,
                              u"/.well-known/openid-configuration"_qs}));
        // The fallback is for missing documents only: a PRM issuer without metadata still fails
        // (noServerMetadataListsUrls), and so does metadata without PKCE (pkce tests).
    }

    // A 2025-03-26 server names its own issuer on its origin (conformance metadata-backcompat serves
    // origin + "/oauth"): that issuer is used from then on.
    void legacyOriginMetadataNamesSameOriginIssuer()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base() + u"/oauth"_qs,
                {u"/.well-known/oauth-authorization-server=as:oauth"_qs});
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY2(out.result->ok(), qPrintable(out.result->ok() ? QString() : out.error().message));
        QCOMPARE(out.result->value().issuer, server.base() + u"/oauth"_qs);
        QCOMPARE(out.result->value().metadata.issuer, server.base() + u"/oauth"_qs);
        QCOMPARE(out.result->value().prm.authorizationServers, QStringList{server.base() + u"/oauth"_qs});
    }

    // ...but legacy origin metadata naming an issuer on another origin is refused (mix-up).
    void legacyOriginMetadataStillValidated()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), u"http://127.0.0.1:1/other"_qs,
                {u"/.well-known/oauth-authorization-server=as:wrong"_qs});
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().code, QStringLiteral("issuer_mismatch"));
    }

    void noServerMetadataListsUrls()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base() + u"/tenant1"_qs,
                {u"/.well-known/oauth-protected-resource/mcp=prm:right"_qs});
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().code, QStringLiteral("no_server_metadata"));
        QVERIFY(out.error().message.contains(QLatin1String("/tenant1/.well-known/openid-configuration")));
        QCOMPARE(server.requestedPaths().size(), 5);
    }

    void hintSkipsProbe()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(),
                {u"/custom/prm=prm:right"_qs, u"/.well-known/oauth-authorization-server=as:right"_qs});
        BearerChallenge hint;
        hint.present = true;
        hint.resourceMetadata = server.url(u"/custom/prm"_qs);
        hint.scope = QStringLiteral("mcp:write");
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        discovery.setChallengeHint(hint);
        const Outcome out = run(discovery);
        QVERIFY(out.result->ok());
        QCOMPARE(out.result->value().challenge.scope, QStringLiteral("mcp:write"));
        QCOMPARE(server.requestedPaths(),
                 (QStringList{u"/custom/prm"_qs, u"/.well-known/oauth-authorization-server"_qs}));
    }

    void probeDisabled()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(),
                {u"/.well-known/oauth-protected-resource/mcp=prm:right"_qs,
                 u"/.well-known/oauth-authorization-server=as:right"_qs});
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        discovery.setProbe(false);
        const Outcome out = run(discovery);
        QVERIFY(out.result->ok());
        QVERIFY(!out.result->value().challenge.present);
        QCOMPARE(server.count(u"/mcp"_qs), 0);
    }

    void probeWithoutChallengeFallsBack()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(),
                {u"/.well-known/oauth-protected-resource/mcp=prm:right"_qs,
                 u"/.well-known/oauth-authorization-server=as:right"_qs});
        server.route(u"/mcp"_qs, [](const TestRequest &) {
            return TestResponse::json(QByteArrayLiteral(R"({"jsonrpc":"2.0","id":1,"result":{}})"));
        });
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(out.result->ok());
        QVERIFY(!out.result->value().challenge.present);
        QCOMPARE(out.result->value().prm.resourceName, QStringLiteral("right"));
    }

    // The PRM `resource` must name this server: RFC 9728 §3.3 / conformance auth/resource-mismatch
    // refuse another origin or path. Issue 7 (MCP 2026-07-28, conformance
    // resource-parameter-matches-prm / auth/metadata-var2): a resource on the MCP server's origin
    // whose path is a whole-segment prefix of its URL covers it, wherever the document was found,
    // and is then the `resource` sent, exactly as published.
    void resourceOfTheMetadata_data()
    {
        QTest::addColumn<QString>("challenge");
        QTest::addColumn<QString>("prmPath");
        QTest::addColumn<QString>("resource");
        QTest::addColumn<bool>("accepted");

        // RFC 9728 §3.3 / conformance auth/resource-mismatch: another origin.
        QTest::newRow("other-origin-header")
            << u"Bearer resource_metadata=\"{base}/custom/prm\""_qs << u"/custom/prm"_qs
            << u"https://evil.example.com/mcp"_qs << false;
        QTest::newRow("other-path-path-aware")
            << QString() << u"/.well-known/oauth-protected-resource/mcp"_qs << u"{base}/other"_qs << false;
        // Same origin, but a path that is not a whole-segment prefix of /mcp, or carries a query.
        QTest::newRow("sibling-path-prefix")
            << QString() << u"/.well-known/oauth-protected-resource/mcp"_qs << u"{base}/mc"_qs << false;
        QTest::newRow("deeper-path") << QString() << u"/.well-known/oauth-protected-resource/mcp"_qs
                                     << u"{base}/mcp/v2"_qs << false;
        QTest::newRow("prefix-with-query") << u"Bearer resource_metadata=\"{base}/custom/prm\""_qs
                                           << u"/custom/prm"_qs << u"{base}/?x=1"_qs << false;
        QTest::newRow("other-port-root") << QString() << u"/.well-known/oauth-protected-resource"_qs
                                         << u"http://127.0.0.1:1/mcp"_qs << false;

        QTest::newRow("origin-from-root")
            << QString() << u"/.well-known/oauth-protected-resource"_qs << u"{base}"_qs << true;
        QTest::newRow("origin-from-path-aware")
            << QString() << u"/.well-known/oauth-protected-resource/mcp"_qs << u"{base}"_qs << true;
        QTest::newRow("origin-slash-from-header") << u"Bearer resource_metadata=\"{base}/custom/prm\""_qs
                                                  << u"/custom/prm"_qs << u"{base}/"_qs << true;
        QTest::newRow("exact") << QString() << u"/.well-known/oauth-protected-resource/mcp"_qs
                               << u"{base}/mcp"_qs << true;
    }
    void resourceOfTheMetadata()
    {
        QFETCH(QString, challenge);
        QFETCH(QString, prmPath);
        QFETCH(QString, resource);
        QFETCH(bool, accepted);
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, challenge, server.base(),
                {u"/.well-known/oauth-authorization-server=as:x"_qs});
        const QString published = fill(resource, server);
        const QString issuer = server.base();
        server.route(prmPath, [=](const TestRequest &) { return prmDoc(published, issuer, u"prm"_qs); });
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        if (accepted) {
            QVERIFY2(out.result->ok(), qPrintable(out.result->ok() ? QString() : out.error().message));
            // Byte for byte: no "/" added or dropped.
            QCOMPARE(out.result->value().resourceIndicator(), published);
            return;
        }
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().code, QStringLiteral("resource_mismatch"));
        QCOMPARE(out.error().category, Error::Category::Security);
        QCOMPARE(server.count(u"/.well-known/oauth-authorization-server"_qs), 0);
    }

    void metadataNotJson_data()
    {
        QTest::addColumn<bool>("atServer");
        QTest::newRow("resource-metadata") << false;
        QTest::newRow("server-metadata") << true;
    }
    void metadataNotJson()
    {
        QFETCH(bool, atServer);
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(),
                {u"/.well-known/oauth-protected-resource/mcp=prm:right"_qs,
                 u"/.well-known/oauth-protected-resource=prm:trap"_qs,
                 u"/.well-known/openid-configuration=as:trap"_qs});
        const QString badPath = atServer ? u"/.well-known/oauth-authorization-server"_qs
                                         : u"/.well-known/oauth-protected-resource/mcp"_qs;
        server.route(badPath, [](const TestRequest &) { return TestResponse::text("<html>Sign in</html>"); });
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().code, QStringLiteral("invalid_json"));
        QVERIFY2(out.error().message.contains(badPath), qPrintable(out.error().message));
        QVERIFY(out.error().message.contains(QLatin1String("not valid JSON")));
        QCOMPARE(server.requestedPaths().constLast(), badPath); // no "try the next URL"
    }

    void tooLargeDocument()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(),
                {u"/.well-known/oauth-protected-resource=prm:trap"_qs});
        server.route(u"/.well-known/oauth-protected-resource/mcp"_qs, [](const TestRequest &) {
            return TestResponse::json(QByteArray(10 * 1024 * 1024, ' '));
        });
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().code, QStringLiteral("response_too_large"));
        QVERIFY(out.error().message.contains(QLatin1String("protected resource metadata")));
        QCOMPARE(server.count(u"/.well-known/oauth-protected-resource"_qs), 0);
    }

    void redirectLoop()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(), {});
        server.route(u"/.well-known/oauth-protected-resource/mcp"_qs,
                     [](const TestRequest &) { return TestResponse::redirect("/loop/a"); });
        server.route(u"/loop/a"_qs, [](const TestRequest &) { return TestResponse::redirect("/loop/b"); });
        server.route(u"/loop/b"_qs, [](const TestRequest &) { return TestResponse::redirect("/loop/a"); });
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().code, QStringLiteral("redirect_loop"));
        QCOMPARE(server.count(u"/.well-known/oauth-protected-resource"_qs), 0);
    }

    void refusesPlainHttpAuthServer()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), u"http://as.example.com"_qs,
                {u"/.well-known/oauth-protected-resource/mcp=prm:right"_qs});
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().category, Error::Category::Security);
        // Our own check (not HttpClient's insecure_url): refused before any request was built.
        QCOMPARE(out.error().code, QStringLiteral("insecure_endpoint"));
        QVERIFY(out.error().message.contains(QLatin1String("http://as.example.com")));
        QCOMPARE(server.requestedPaths(),
                 (QStringList{u"/mcp"_qs, u"/.well-known/oauth-protected-resource/mcp"_qs}));
    }

    void refusesPlainHttpResourceMetadataUrl()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, u"Bearer resource_metadata=\"http://mcp.example.com/prm\""_qs,
                server.base(), {});
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().category, Error::Category::Security);
        QCOMPARE(server.requestedPaths(), QStringList{u"/mcp"_qs});
    }

    void silentServerTimesOut()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(), {});
        server.route(u"/.well-known/oauth-protected-resource/mcp"_qs, [](const TestRequest &) {
            TestResponse r;
            r.behaviour = TestResponse::Behaviour::NeverAnswer;
            return r;
        });
        const HttpClient http = client(500);
        Discovery discovery(http, server.url(u"/mcp"_qs));
        QElapsedTimer timer;
        timer.start();
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().code, QStringLiteral("timeout"));
        QCOMPARE(out.error().category, Error::Category::Network);
        QVERIFY2(timer.elapsed() < 3000, qPrintable(QString::number(timer.elapsed())));
    }

    void unreachableServerIsFatal()
    {
        quint16 port = 0;
        {
            TestHttpServer gone;
            QVERIFY(gone.listen());
            port = gone.port();
        }
        const HttpClient http = client();
        Discovery discovery(http, QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(port)));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().category, Error::Category::Network);
        QVERIFY(out.error().message.startsWith(QLatin1String("MCP server")));
        QCOMPARE(out.emissions, 1);
    }

    void serverErrorIsFatal_data()
    {
        QTest::addColumn<QString>("failingPath");
        QTest::addColumn<QString>("skippedPath");
        QTest::newRow("resource-metadata")
            << u"/.well-known/oauth-protected-resource/mcp"_qs << u"/.well-known/oauth-protected-resource"_qs;
        QTest::newRow("server-metadata")
            << u"/.well-known/oauth-authorization-server"_qs << u"/.well-known/openid-configuration"_qs;
    }
    void serverErrorIsFatal()
    {
        QFETCH(QString, failingPath);
        QFETCH(QString, skippedPath);
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(),
                {u"/.well-known/oauth-protected-resource/mcp=prm:right"_qs,
                 u"/.well-known/oauth-protected-resource=prm:trap"_qs,
                 u"/.well-known/openid-configuration=as:trap"_qs});
        server.route(failingPath, [](const TestRequest &) { return TestResponse::text("boom", 503); });
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().category, Error::Category::Network);
        QCOMPARE(out.error().code, QStringLiteral("server_error"));
        QVERIFY(out.error().message.contains(QLatin1String("503")));
        QCOMPARE(server.count(skippedPath), 0);
    }

    // The first metadata document found decides: its errors are final, not "try the next URL".
    void serverMetadataErrorsAreFinal_data()
    {
        QTest::addColumn<QString>("issuerInDoc");
        QTest::addColumn<bool>("withPkce");
        QTest::addColumn<QString>("code");
        QTest::newRow("issuer-mismatch") << u"{base}/"_qs << true << u"issuer_mismatch"_qs;
        QTest::newRow("issuer-other") << u"https://evil.example.com"_qs << true << u"issuer_mismatch"_qs;
        QTest::newRow("pkce-missing") << u"{base}"_qs << false << u"pkce_unsupported"_qs;
    }
    void serverMetadataErrorsAreFinal()
    {
        QFETCH(QString, issuerInDoc);
        QFETCH(bool, withPkce);
        QFETCH(QString, code);
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(),
                {u"/.well-known/oauth-protected-resource/mcp=prm:right"_qs,
                 u"/.well-known/openid-configuration=as:trap"_qs});
        Json doc = asJson(fill(issuerInDoc, server), server.base(), u"first"_qs);
        if (!withPkce)
            doc.erase("code_challenge_methods_supported");
        server.route(u"/.well-known/oauth-authorization-server"_qs,
                     [body = toBytes(doc)](const TestRequest &) { return TestResponse::json(body); });
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().code, code);
        QCOMPARE(out.error().category, Error::Category::Security);
        QCOMPARE(server.count(u"/.well-known/openid-configuration"_qs), 0);
    }

    void invalidMcpUrl()
    {
        const HttpClient http = client();
        Discovery discovery(http, QUrl(QStringLiteral("ftp://mcp.example.com/mcp")));
        QSignalSpy spy(&discovery, &Discovery::finished);
        const Outcome out = run(discovery);
        QVERIFY(!out.result->ok());
        QCOMPARE(out.error().code, QStringLiteral("invalid_resource"));
        QCOMPARE(out.emissions, 1);
        QCOMPARE(spy.count(), 1);
    }

    void finishedIsNeverEmittedInsideStart()
    {
        const HttpClient http = client();
        Discovery discovery(http, QUrl(QStringLiteral("not a url")));
        int emissions = 0;
        connect(&discovery, &Discovery::finished, this, [&] { ++emissions; });
        discovery.start();
        QCOMPARE(emissions, 0);
        QTRY_COMPARE(emissions, 1);
        discovery.start(); // a second start() does nothing
        QTest::qWait(30);
        QCOMPARE(emissions, 1);
    }

    void cancelWhileFetching()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(), {});
        server.route(u"/.well-known/oauth-protected-resource/mcp"_qs, [](const TestRequest &) {
            TestResponse r;
            r.behaviour = TestResponse::Behaviour::NeverAnswer;
            return r;
        });
        const HttpClient http = client();
        Discovery discovery(http, server.url(u"/mcp"_qs));
        QSignalSpy spy(&discovery, &Discovery::finished);
        std::optional<Result<DiscoveryResult>> result;
        connect(&discovery, &Discovery::finished, this,
                [&](const Result<DiscoveryResult> &r) { result.emplace(r); });
        discovery.start();
        QTRY_COMPARE(server.count(u"/.well-known/oauth-protected-resource/mcp"_qs), 1);
        QCOMPARE(discovery.state(), Discovery::State::FetchingResourceMetadata);
        discovery.cancel();
        QCOMPARE(discovery.state(), Discovery::State::Cancelled);
        QTRY_COMPARE(spy.count(), 1);
        QCOMPARE(result->error().category, Error::Category::Cancelled);
        discovery.cancel(); // no second emission
        QTest::qWait(50);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(server.count(u"/.well-known/oauth-protected-resource"_qs), 0);
    }

    void destroyedWhileFetchingIsSilent()
    {
        TestHttpServer server;
        QVERIFY(server.listen());
        install(server, u"/mcp"_qs, QString(), server.base(), {});
        server.route(u"/.well-known/oauth-protected-resource/mcp"_qs, [](const TestRequest &) {
            TestResponse r;
            r.behaviour = TestResponse::Behaviour::NeverAnswer;
            return r;
        });
        const HttpClient http = client();
        auto *discovery = new Discovery(http, server.url(u"/mcp"_qs));
        int emissions = 0;
        connect(discovery, &Discovery::finished, this, [&] { ++emissions; });
        discovery->start();
        QTRY_COMPARE(server.count(u"/.well-known/oauth-protected-resource/mcp"_qs), 1);
        delete discovery;
        QTest::qWait(50);
        QCOMPARE(emissions, 0);
    }
};

QTEST_GUILESS_MAIN(TestDiscovery)
#include "TestDiscovery.moc"
