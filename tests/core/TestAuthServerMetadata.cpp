#include "discovery/AuthServerMetadata.h"

#include <QTest>

using namespace mcpauth;

namespace {

const QString kIssuer = QStringLiteral("https://auth.example.com/tenant1");

Json validDoc()
{
    return Json{
        {"issuer", "https://auth.example.com/tenant1"},
        {"authorization_endpoint", "https://auth.example.com/tenant1/authorize"},
        {"token_endpoint", "https://auth.example.com/tenant1/token"},
        {"registration_endpoint", "https://auth.example.com/tenant1/register"},
        {"revocation_endpoint", "https://auth.example.com/tenant1/revoke"},
        {"scopes_supported", {"openid", "offline_access", "mcp:read"}},
        {"response_types_supported", {"code"}},
        {"code_challenge_methods_supported", {"plain", "S256"}},
        {"token_endpoint_auth_methods_supported", {"none", "client_secret_basic"}},
        {"client_id_metadata_document_supported", true},
        {"authorization_response_iss_parameter_supported", true},
    };
}

} // namespace

class TestAuthServerMetadata : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parsesValidDocument()
    {
        const Result<AuthServerMetadata> m = AuthServerMetadata::parse(toBytes(validDoc()), kIssuer);
        QVERIFY2(m.ok(), qPrintable(m.ok() ? QString() : m.error().message));
        QCOMPARE(m->issuer, kIssuer);
        QCOMPARE(m->authorizationEndpoint,
                 QUrl(QStringLiteral("https://auth.example.com/tenant1/authorize")));
        QCOMPARE(m->tokenEndpoint, QUrl(QStringLiteral("https://auth.example.com/tenant1/token")));
        QCOMPARE(m->registrationEndpoint, QUrl(QStringLiteral("https://auth.example.com/tenant1/register")));
        QCOMPARE(m->revocationEndpoint, QUrl(QStringLiteral("https://auth.example.com/tenant1/revoke")));
        QVERIFY(m->supportsScope(QStringLiteral("offline_access")));
        QVERIFY(!m->supportsScope(QStringLiteral("admin")));
        QCOMPARE(m->codeChallengeMethodsSupported,
                 std::optional<QStringList>(QStringList{u"plain"_qs, u"S256"_qs}));
        QCOMPARE(m->tokenEndpointAuthMethodsSupported->size(), 2);
        QVERIFY(m->clientIdMetadataDocumentSupported);
        QVERIFY(m->authorizationResponseIssParameterSupported);
    }

    void minimalDocument()
    {
        Json doc = {{"issuer", "https://auth.example.com"},
                    {"authorization_endpoint", "https://auth.example.com/authorize"},
                    {"token_endpoint", "https://auth.example.com/token"},
                    {"code_challenge_methods_supported", {"S256"}}};
        const Result<AuthServerMetadata> m =
            AuthServerMetadata::parse(toBytes(doc), u"https://auth.example.com"_qs);
        QVERIFY(m.ok());
        QVERIFY(m->registrationEndpoint.isEmpty());
        QVERIFY(!m->scopesSupported.has_value());
        QVERIFY(!m->tokenEndpointAuthMethodsSupported.has_value());
        QVERIFY(!m->clientIdMetadataDocumentSupported);
    }

    void loopbackHttpAllowed()
    {
        Json doc = validDoc();
        doc["issuer"] = "http://127.0.0.1:9000";
        doc["authorization_endpoint"] = "http://127.0.0.1:9000/authorize";
        doc["token_endpoint"] = "http://localhost:9000/token";
        doc["registration_endpoint"] = "http://[::1]:9000/register";
        doc["revocation_endpoint"] = "https://auth.example.com/revoke";
        QVERIFY(AuthServerMetadata::parse(toBytes(doc), u"http://127.0.0.1:9000"_qs).ok());
    }

    void refuses_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("expectedIssuer");
        QTest::addColumn<QString>("code");
        QTest::addColumn<int>("category");

        const auto with = [](const char *key, const Json &value) {
            Json d = validDoc();
            d[key] = value;
            return toBytes(d);
        };
        const auto without = [](const char *key) {
            Json d = validDoc();
            d.erase(key);
            return toBytes(d);
        };
        const int security = int(Error::Category::Security);
        const int protocol = int(Error::Category::Protocol);

        QTest::newRow("issuer-other-host") << with("issuer", "https://evil.example.com/tenant1") << kIssuer
                                           << u"issuer_mismatch"_qs << security;
        QTest::newRow("issuer-trailing-slash") << with("issuer", "https://auth.example.com/tenant1/")
                                               << kIssuer << u"issuer_mismatch"_qs << security;
        QTest::newRow("issuer-expected-trailing-slash")
            << toBytes(validDoc()) << kIssuer + QLatin1Char('/') << u"issuer_mismatch"_qs << security;
        QTest::newRow("issuer-case") << with("issuer", "https://AUTH.example.com/tenant1") << kIssuer
                                     << u"issuer_mismatch"_qs << security;
        QTest::newRow("issuer-missing") << without("issuer") << kIssuer << u"issuer_mismatch"_qs << security;
        QTest::newRow("issuer-not-string")
            << with("issuer", 42) << kIssuer << u"issuer_mismatch"_qs << security;
        QTest::newRow("pkce-absent") << without("code_challenge_methods_supported") << kIssuer
                                     << u"pkce_unsupported"_qs << security;
        QTest::newRow("pkce-plain-only") << with("code_challenge_methods_supported", {"plain"}) << kIssuer
                                         << u"pkce_unsupported"_qs << security;
        QTest::newRow("pkce-empty") << with("code_challenge_methods_supported", Json::array()) << kIssuer
                                    << u"pkce_unsupported"_qs << security;
        QTest::newRow("pkce-lowercase") << with("code_challenge_methods_supported", {"s256"}) << kIssuer
                                        << u"pkce_unsupported"_qs << security;
        QTest::newRow("pkce-not-array") << with("code_challenge_methods_supported", "S256") << kIssuer
                                        << u"pkce_unsupported"_qs << security;
        QTest::newRow("insecure-authorize")
            << with("authorization_endpoint", "http://auth.example.com/authorize") << kIssuer
            << u"insecure_endpoint"_qs << security;
        QTest::newRow("insecure-token") << with("token_endpoint", "http://auth.example.com/token") << kIssuer
                                        << u"insecure_endpoint"_qs << security;
        QTest::newRow("insecure-register") << with("registration_endpoint", "http://10.0.0.1/register")
                                           << kIssuer << u"insecure_endpoint"_qs << security;
        QTest::newRow("insecure-revoke") << with("revocation_endpoint", "http://auth.example.com/revoke")
                                         << kIssuer << u"insecure_endpoint"_qs << security;
        QTest::newRow("token-endpoint-missing")
            << without("token_endpoint") << kIssuer << u"invalid_metadata"_qs << protocol;
        QTest::newRow("authorize-endpoint-missing")
            << without("authorization_endpoint") << kIssuer << u"invalid_metadata"_qs << protocol;
        QTest::newRow("token-endpoint-relative")
            << with("token_endpoint", "/token") << kIssuer << u"invalid_metadata"_qs << protocol;
        QTest::newRow("token-endpoint-not-string")
            << with("token_endpoint", Json::array()) << kIssuer << u"invalid_metadata"_qs << protocol;
        QTest::newRow("no-code-response-type")
            << with("response_types_supported", {"token"}) << kIssuer << u"invalid_metadata"_qs << protocol;
        QTest::newRow("not-json") << QByteArrayLiteral("<html>Sign in</html>") << kIssuer
                                  << u"invalid_json"_qs << protocol;
        QTest::newRow("json-array") << QByteArrayLiteral("[1,2]") << kIssuer << u"invalid_json"_qs
                                    << protocol;
        QTest::newRow("empty") << QByteArray() << kIssuer << u"invalid_json"_qs << protocol;
    }
    void refuses()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, expectedIssuer);
        QFETCH(QString, code);
        QFETCH(int, category);
        const Result<AuthServerMetadata> m = AuthServerMetadata::parse(body, expectedIssuer);
        QVERIFY(!m.ok());
        QCOMPARE(m.error().code, code);
        QCOMPARE(int(m.error().category), category);
        QVERIFY(!m.error().message.isEmpty());
    }

    void pkceMessageExplains()
    {
        Json doc = validDoc();
        doc.erase("code_challenge_methods_supported");
        const Result<AuthServerMetadata> m = AuthServerMetadata::parse(toBytes(doc), kIssuer);
        QVERIFY(!m.ok());
        QVERIFY(m.error().message.contains(QLatin1String("S256")));
        QVERIFY(m.error().message.contains(QLatin1String("unsafe")));
    }

    void roundTripsThroughJson()
    {
        const Result<AuthServerMetadata> m = AuthServerMetadata::parse(toBytes(validDoc()), kIssuer);
        QVERIFY(m.ok());
        const Json json = m->toJson();
        QCOMPARE(json.at("token_endpoint").get<std::string>(),
                 std::string("https://auth.example.com/tenant1/token"));
        const Result<AuthServerMetadata> back = AuthServerMetadata::fromJson(json);
        QVERIFY(back.ok());
        QCOMPARE(back->issuer, m->issuer);
        QCOMPARE(back->authorizationEndpoint, m->authorizationEndpoint);
        QCOMPARE(back->tokenEndpoint, m->tokenEndpoint);
        QCOMPARE(back->registrationEndpoint, m->registrationEndpoint);
        QCOMPARE(back->revocationEndpoint, m->revocationEndpoint);
        QCOMPARE(back->scopesSupported, m->scopesSupported);
        QCOMPARE(back->responseTypesSupported, m->responseTypesSupported);
        QCOMPARE(back->codeChallengeMethodsSupported, m->codeChallengeMethodsSupported);
        QCOMPARE(back->tokenEndpointAuthMethodsSupported, m->tokenEndpointAuthMethodsSupported);
        QCOMPARE(back->clientIdMetadataDocumentSupported, m->clientIdMetadataDocumentSupported);
        QCOMPARE(back->authorizationResponseIssParameterSupported,
                 m->authorizationResponseIssParameterSupported);
        QCOMPARE(toBytes(back->toJson()), toBytes(json));
    }

    void roundTripKeepsAbsentLists()
    {
        Json doc = validDoc();
        doc.erase("scopes_supported");
        doc.erase("token_endpoint_auth_methods_supported");
        doc.erase("response_types_supported");
        const Result<AuthServerMetadata> m = AuthServerMetadata::parse(toBytes(doc), kIssuer);
        QVERIFY(m.ok());
        const Result<AuthServerMetadata> back = AuthServerMetadata::fromJson(m->toJson());
        QVERIFY(back.ok());
        QVERIFY(!back->scopesSupported.has_value());
        QVERIFY(!back->tokenEndpointAuthMethodsSupported.has_value());
    }

    void fromJsonValidatesAgain()
    {
        Json doc = validDoc();
        doc["token_endpoint"] = "http://auth.example.com/token";
        const Result<AuthServerMetadata> m = AuthServerMetadata::fromJson(doc);
        QVERIFY(!m.ok());
        QCOMPARE(m.error().code, QStringLiteral("insecure_endpoint"));
        QVERIFY(!AuthServerMetadata::fromJson(Json::array()).ok());
    }
};

QTEST_GUILESS_MAIN(TestAuthServerMetadata)
#include "TestAuthServerMetadata.moc"
