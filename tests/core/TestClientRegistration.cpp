#include "registration/ClientRegistration.h"

#include <QTest>

using namespace mcpauth;

Q_DECLARE_METATYPE(mcpauth::ClientRegistration::AuthMethod)
Q_DECLARE_METATYPE(mcpauth::ClientRegistration::Source)

class TestClientRegistration : public QObject
{
    Q_OBJECT
private:
    static ClientRegistration sample()
    {
        ClientRegistration r;
        r.source = ClientRegistration::Source::Dynamic;
        r.issuer = QStringLiteral("https://as.example.com");
        r.clientId = QStringLiteral("client-123");
        r.clientSecret = QStringLiteral("very-secret-value");
        r.clientSecretExpiresAt = 1'800'000'000;
        r.authMethod = ClientRegistration::AuthMethod::ClientSecretPost;
        r.redirectUri = QStringLiteral("http://127.0.0.1:43123/callback");
        r.registeredAt = 1'700'000'123;
        return r;
    }

private Q_SLOTS:
    void authMethodNames_data()
    {
        QTest::addColumn<ClientRegistration::AuthMethod>("method");
        QTest::addColumn<QString>("name");
        QTest::newRow("none") << ClientRegistration::AuthMethod::None << "none";
        QTest::newRow("basic") << ClientRegistration::AuthMethod::ClientSecretBasic << "client_secret_basic";
        QTest::newRow("post") << ClientRegistration::AuthMethod::ClientSecretPost << "client_secret_post";
    }
    void authMethodNames()
    {
        QFETCH(ClientRegistration::AuthMethod, method);
        QFETCH(QString, name);
        QCOMPARE(ClientRegistration::authMethodName(method), name);
        QCOMPARE(ClientRegistration::authMethodFromName(name), std::optional(method));
    }

    void unknownAuthMethodNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("private_key_jwt") << "private_key_jwt";
        QTest::newRow("tls") << "tls_client_auth";
        QTest::newRow("case") << "Client_Secret_Basic";
        QTest::newRow("empty") << "";
    }
    void unknownAuthMethodNames()
    {
        QFETCH(QString, name);
        QVERIFY(!ClientRegistration::authMethodFromName(name).has_value());
    }

    void sourceNames_data()
    {
        QTest::addColumn<ClientRegistration::Source>("source");
        QTest::addColumn<QString>("name");
        QTest::newRow("pre") << ClientRegistration::Source::PreRegistered << "pre-registered";
        QTest::newRow("cimd") << ClientRegistration::Source::MetadataDocument << "client-metadata-document";
        QTest::newRow("dcr") << ClientRegistration::Source::Dynamic << "dynamic";
    }
    void sourceNames()
    {
        QFETCH(ClientRegistration::Source, source);
        QFETCH(QString, name);
        QCOMPARE(ClientRegistration::sourceName(source), name);
        ClientRegistration r = sample();
        r.source = source;
        const auto back = ClientRegistration::fromJson(r.toJson());
        QVERIFY(back.ok());
        QCOMPARE(back->source, source);
    }

    void jsonHasNoSecret()
    {
        const Json json = sample().toJson();
        QVERIFY(!json.contains("client_secret"));
        QVERIFY(!QString::fromUtf8(toBytes(json)).contains(QStringLiteral("very-secret-value")));
        QCOMPARE(jsonString(json, "client_id"), QStringLiteral("client-123"));
        QCOMPARE(jsonString(json, "token_endpoint_auth_method"), QStringLiteral("client_secret_post"));
        QCOMPARE(jsonString(json, "source"), QStringLiteral("dynamic"));
    }

    void jsonRoundTrip()
    {
        const ClientRegistration in = sample();
        const auto out = ClientRegistration::fromJson(in.toJson());
        QVERIFY(out.ok());
        QCOMPARE(out->source, in.source);
        QCOMPARE(out->issuer, in.issuer);
        QCOMPARE(out->clientId, in.clientId);
        QCOMPARE(out->clientSecret, QString()); // comes back from the keychain, not from here
        QCOMPARE(out->clientSecretExpiresAt, in.clientSecretExpiresAt);
        QCOMPARE(out->authMethod, in.authMethod);
        QCOMPARE(out->redirectUri, in.redirectUri);
        QCOMPARE(out->registeredAt, in.registeredAt);
        QVERIFY(out->isValid());
    }

    void fromJsonRejects_data()
    {
        QTest::addColumn<QByteArray>("json");
        const QByteArray good = toBytes(sample().toJson());
        QVERIFY(ClientRegistration::fromJson(Json::parse(good.toStdString())).ok());
        QTest::newRow("array") << QByteArray("[]");
        QTest::newRow("no client_id") << QByteArray(
            R"({"source":"dynamic","issuer":"as.example","token_endpoint_auth_method":"none"})");
        QTest::newRow("no issuer") << QByteArray(
            R"({"source":"dynamic","client_id":"c","token_endpoint_auth_method":"none"})");
        QTest::newRow("unknown method") << QByteArray(
            R"({"source":"dynamic","issuer":"as.example","client_id":"c","token_endpoint_auth_method":"private_key_jwt"})");
        QTest::newRow("unknown source") << QByteArray(
            R"({"source":"magic","issuer":"as.example","client_id":"c","token_endpoint_auth_method":"none"})");
    }
    void fromJsonRejects()
    {
        QFETCH(QByteArray, json);
        const auto r = ClientRegistration::fromJson(Json::parse(json.toStdString()));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QStringLiteral("invalid_registration"));
    }
};

QTEST_GUILESS_MAIN(TestClientRegistration)
#include "TestClientRegistration.moc"
