#include "tokens/TokenSet.h"

#include <QTest>

using namespace mcpauth;

class TestTokenSet : public QObject
{
    Q_OBJECT
private:
    static constexpr qint64 kNow = 1'700'000'000;
    static constexpr qint64 kTenYears = 10LL * 365 * 24 * 3600;

private Q_SLOTS:
    void parse_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("errorCode"); // empty: success
        QTest::addColumn<qint64>("expiresAt");
        QTest::addColumn<QString>("scope");
        QTest::addColumn<QString>("refreshToken");

        QTest::newRow("full")
            << QByteArray(
                   R"({"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt","scope":"a b"})")
            << "" << kNow + 3600 << "a b"
            << "rt";
        QTest::newRow("expires_in string")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":"120"})") << ""
            << kNow + 120 << "requested"
            << "";
        QTest::newRow("expires_in float")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":59.9})") << ""
            << kNow + 59 << "requested"
            << "";
        QTest::newRow("expires_in absent")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer"})") << "" << qint64(0) << "requested"
            << "";
        QTest::newRow("expires_in garbage")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":"soon"})") << ""
            << qint64(0) << "requested"
            << "";
        // RFC 6749 §5.1: a lifetime is positive; zero or less is ignored (unknown lifetime), never
        // "already expired", which would refresh on every call.
        QTest::newRow("expires_in negative")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":-5})") << "" << qint64(0)
            << "requested"
            << "";
        QTest::newRow("expires_in zero")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":0})") << "" << qint64(0)
            << "requested"
            << "";
        QTest::newRow("expires_in zero string")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":"0"})") << ""
            << qint64(0) << "requested"
            << "";
        // RFC 6750 §2.1 / RFC 6749 Appendix A: what would become a header is refused on receipt.
        QTest::newRow("access_token with CR LF")
            << QByteArray(R"({"access_token":"at\r\nX-Injected: 1","token_type":"Bearer"})")
            << "invalid_token_characters" << qint64(0) << ""
            << "";
        QTest::newRow("access_token with LF only")
            << QByteArray(R"({"access_token":"at\nx","token_type":"Bearer"})") << "invalid_token_characters"
            << qint64(0) << ""
            << "";
        QTest::newRow("access_token with space")
            << QByteArray(R"({"access_token":"at x","token_type":"Bearer"})") << "invalid_token_characters"
            << qint64(0) << ""
            << "";
        QTest::newRow("access_token with NUL")
            << QByteArray(R"({"access_token":"at\u0000x","token_type":"Bearer"})")
            << "invalid_token_characters" << qint64(0) << ""
            << "";
        QTest::newRow("access_token non-ASCII")
            << QByteArray(R"({"access_token":"at\u00e9","token_type":"Bearer"})")
            << "invalid_token_characters" << qint64(0) << ""
            << "";
        QTest::newRow("refresh_token with CR LF")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer","refresh_token":"rt\r\n"})")
            << "invalid_token_characters" << qint64(0) << ""
            << "";
        QTest::newRow("expires_in absurd")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":1e300})") << ""
            << kNow + kTenYears << "requested"
            << "";
        QTest::newRow("expires_in huge unsigned")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer","expires_in":18446744073709551615})")
            << "" << kNow + kTenYears << "requested"
            << "";
        QTest::newRow("scope absent -> requested")
            << QByteArray(R"({"access_token":"at","token_type":"Bearer"})") << "" << qint64(0) << "requested"
            << "";
        QTest::newRow("token_type lowercase")
            << QByteArray(R"({"access_token":"at","token_type":"bearer"})") << "" << qint64(0) << "requested"
            << "";
        QTest::newRow("token_type mac") << QByteArray(R"({"access_token":"at","token_type":"mac"})")
                                        << "unsupported_token_type" << qint64(0) << ""
                                        << "";
        QTest::newRow("token_type DPoP") << QByteArray(R"({"access_token":"at","token_type":"DPoP"})")
                                         << "unsupported_token_type" << qint64(0) << ""
                                         << "";
        QTest::newRow("token_type missing")
            << QByteArray(R"({"access_token":"at"})") << "unsupported_token_type" << qint64(0) << ""
            << "";
        QTest::newRow("missing access_token") << QByteArray(R"({"token_type":"Bearer","refresh_token":"rt"})")
                                              << "invalid_token_response" << qint64(0) << ""
                                              << "";
        QTest::newRow("access_token not a string")
            << QByteArray(R"({"access_token":42,"token_type":"Bearer"})") << "invalid_token_response"
            << qint64(0) << ""
            << "";
        QTest::newRow("not JSON") << QByteArray("<html>oops</html>") << "invalid_json" << qint64(0) << ""
                                  << "";
        QTest::newRow("JSON array") << QByteArray("[]") << "invalid_json" << qint64(0) << ""
                                    << "";
    }
    void parse()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, errorCode);
        QFETCH(qint64, expiresAt);
        QFETCH(QString, scope);
        QFETCH(QString, refreshToken);

        const auto r = TokenSet::fromTokenResponse(body, kNow, QStringLiteral("requested"));
        if (!errorCode.isEmpty()) {
            QVERIFY(!r.ok());
            QCOMPARE(r.error().code, errorCode);
            QCOMPARE(r.error().category, Error::Category::Protocol);
            return;
        }
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QCOMPARE(r->accessToken, QStringLiteral("at"));
        QCOMPARE(r->tokenType, QStringLiteral("Bearer"));
        QCOMPARE(r->expiresAt, expiresAt);
        QCOMPARE(r->scope, scope);
        QCOMPARE(r->refreshToken, refreshToken);
        QCOMPARE(r->obtainedAt, kNow);
    }

    void tokenCharacterSets()
    {
        // Every VSCHAR but space is fine in an access token (JWTs, Salesforce's '!' tokens, ...).
        QVERIFY(TokenSet::isValidAccessToken(QStringLiteral("eyJ.a-b_c~d+e/f=!#$%&'()*,:;<>?@[]^`{|}")));
        QVERIFY(!TokenSet::isValidAccessToken(QString()));
        QVERIFY(!TokenSet::isValidAccessToken(QStringLiteral("a\tb")));
        QVERIFY(!TokenSet::isValidAccessToken(QString(TokenSet::maxTokenChars + 1, QLatin1Char('a'))));
        QVERIFY(TokenSet::isValidRefreshToken(QStringLiteral("with space")));
        QVERIFY(!TokenSet::isValidRefreshToken(QStringLiteral("rt\x7f")));
    }

    void storedTokensWithBadCharactersAreRefused()
    {
        const auto r = TokenSet::fromSecretJson(R"({"access_token":"at\r\nX: y","refresh_token":"rt"})");
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QStringLiteral("invalid_stored_tokens"));
    }

    void refreshWithoutRefreshTokenKeepsOld()
    {
        TokenSet previous;
        previous.accessToken = QStringLiteral("old-at");
        previous.refreshToken = QStringLiteral("old-rt");
        const auto r = TokenSet::fromTokenResponse(R"({"access_token":"new-at","token_type":"Bearer"})", kNow,
                                                   QStringLiteral("s"), &previous);
        QVERIFY(r.ok());
        QCOMPARE(r->accessToken, QStringLiteral("new-at"));
        QCOMPARE(r->refreshToken, QStringLiteral("old-rt"));
    }

    void refreshWithNewRefreshTokenRotates()
    {
        TokenSet previous;
        previous.refreshToken = QStringLiteral("old-rt");
        const auto r = TokenSet::fromTokenResponse(
            R"({"access_token":"new-at","token_type":"Bearer","refresh_token":"new-rt"})", kNow, {},
            &previous);
        QVERIFY(r.ok());
        QCOMPARE(r->refreshToken, QStringLiteral("new-rt"));
    }

    void isValidFor_data()
    {
        QTest::addColumn<QString>("accessToken");
        QTest::addColumn<qint64>("expiresAt");
        QTest::addColumn<qint64>("margin");
        QTest::addColumn<bool>("valid");
        QTest::newRow("fresh") << "at" << kNow + 3600 << qint64(60) << true;
        QTest::newRow("within margin") << "at" << kNow + 30 << qint64(60) << false;
        QTest::newRow("exactly margin") << "at" << kNow + 60 << qint64(60) << true;
        QTest::newRow("expired") << "at" << kNow - 1 << qint64(0) << false;
        QTest::newRow("no lifetime") << "at" << qint64(0) << qint64(60) << true;
        QTest::newRow("no access token") << "" << kNow + 3600 << qint64(0) << false;
    }
    void isValidFor()
    {
        QFETCH(QString, accessToken);
        QFETCH(qint64, expiresAt);
        QFETCH(qint64, margin);
        QFETCH(bool, valid);
        TokenSet t;
        t.accessToken = accessToken;
        t.expiresAt = expiresAt;
        QCOMPARE(t.isValidFor(kNow, margin), valid);
    }

    void nonPositiveLifetimeIsUnknownNotExpired()
    {
        // RFC 6749 §5.1: expires_in is positive. Read as "already expired", a -100 would make every
        // token/get refresh; it is ignored instead and the server's 401 tells when the token ends.
        const auto r = TokenSet::fromTokenResponse(
            R"({"access_token":"at","token_type":"Bearer","expires_in":-100})", kNow, {});
        QVERIFY(r.ok());
        QCOMPARE(r->expiresAt, qint64(0));
        QVERIFY(r->isValidFor(kNow, 60));
    }

    void secretJsonRoundTrip()
    {
        TokenSet in;
        in.accessToken = QStringLiteral("at-1");
        in.refreshToken = QStringLiteral("rt-1");
        in.expiresAt = kNow + 10;
        in.scope = QStringLiteral("mcp:read offline_access");
        in.obtainedAt = kNow;
        const auto out = TokenSet::fromSecretJson(toBytes(in.toSecretJson()));
        QVERIFY(out.ok());
        QCOMPARE(out->accessToken, in.accessToken);
        QCOMPARE(out->refreshToken, in.refreshToken);
        QCOMPARE(out->tokenType, in.tokenType);
        QCOMPARE(out->expiresAt, in.expiresAt);
        QCOMPARE(out->scope, in.scope);
        QCOMPARE(out->obtainedAt, in.obtainedAt);
    }

    void secretJsonRejects_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("code");
        QTest::newRow("garbage") << QByteArray("not json") << "invalid_json";
        QTest::newRow("empty set") << QByteArray(R"({"scope":"x"})") << "invalid_stored_tokens";
    }
    void secretJsonRejects()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, code);
        const auto r = TokenSet::fromSecretJson(bytes);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, code);
    }
};

QTEST_GUILESS_MAIN(TestTokenSet)
#include "TestTokenSet.moc"
