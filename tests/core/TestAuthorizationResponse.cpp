#include "login/AuthorizationResponse.h"

#include <QTest>
#include <QUrlQuery>

using namespace mcpauth;

Q_DECLARE_METATYPE(Error::Category)

namespace {

const QString kState = QStringLiteral("Kf3p9Qx-2bYt_8vLmN0aZr5cWq1eHs7uJd4gTo6iPyA");
const QString kIssuer = QStringLiteral("https://as.example.com");
const QString kDescription = QStringLiteral("Forged text: call 555-0100 to restore access");

QUrlQuery q(const QList<QPair<QString, QString>> &items)
{
    QUrlQuery query;
    for (const auto &[k, v] : items)
        query.addQueryItem(k, QString::fromLatin1(QUrl::toPercentEncoding(v)));
    return query;
}

QPair<QString, QString> kv(const char *k, const QString &v)
{
    return {QString::fromLatin1(k), v};
}

} // namespace

class TestAuthorizationResponse : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void validate_data()
    {
        QTest::addColumn<QUrlQuery>("query");
        QTest::addColumn<bool>("issSupported");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<Error::Category>("category");
        QTest::addColumn<QString>("code"); // the returned code, or the error code

        const auto code = kv("code", QStringLiteral("SplxlOBeZQQYbYS6WxSbIA"));
        const auto state = kv("state", kState);
        const auto iss = kv("iss", kIssuer);
        const auto S = Error::Category::Security;
        const auto P = Error::Category::Protocol;
        const auto none = Error::Category::Internal;

        QTest::newRow("good with iss")
            << q({code, state, iss}) << true << true << none << QStringLiteral("SplxlOBeZQQYbYS6WxSbIA");
        QTest::newRow("iss absent and not advertised → ok")
            << q({code, state}) << false << true << none << QStringLiteral("SplxlOBeZQQYbYS6WxSbIA");
        QTest::newRow("state mismatch") << q({code, kv("state", kState + QLatin1Char('x')), iss}) << true
                                        << false << S << QStringLiteral("state_mismatch");
        QTest::newRow("state differs in one char")
            << q({code, kv("state", QString(kState).replace(0, 1, QStringLiteral("L"))), iss}) << true
            << false << S << QStringLiteral("state_mismatch");
        QTest::newRow("state missing")
            << q({code, iss}) << true << false << S << QStringLiteral("state_mismatch");
        QTest::newRow("state empty") << q({code, kv("state", QString()), iss}) << true << false << S
                                     << QStringLiteral("state_mismatch");
        QTest::newRow("state repeated") << q({code, state, kv("state", QStringLiteral("other")), iss}) << true
                                        << false << S << QStringLiteral("state_mismatch");
        QTest::newRow("iss mismatch: trailing slash")
            << q({code, state, kv("iss", kIssuer + QLatin1Char('/'))}) << true << false << S
            << QStringLiteral("iss_mismatch");
        QTest::newRow("iss mismatch: case")
            << q({code, state, kv("iss", QStringLiteral("https://AS.example.com"))}) << true << false << S
            << QStringLiteral("iss_mismatch");
        QTest::newRow("iss missing when supported")
            << q({code, state}) << true << false << S << QStringLiteral("iss_missing");
        QTest::newRow("iss present, not advertised, wrong → refused")
            << q({code, state, kv("iss", QStringLiteral("https://evil.example.com"))}) << false << false << S
            << QStringLiteral("iss_mismatch");
        QTest::newRow("iss present, not advertised, right → ok")
            << q({code, state, iss}) << false << true << none << QStringLiteral("SplxlOBeZQQYbYS6WxSbIA");
        QTest::newRow("iss repeated")
            << q({code, state, iss, iss}) << true << false << S << QStringLiteral("iss_mismatch");
        QTest::newRow("access_denied with matching state")
            << q({kv("error", QStringLiteral("access_denied")), kv("error_description", kDescription), state,
                  iss})
            << true << false << P << QStringLiteral("access_denied");
        QTest::newRow("error wins over code") << q({code, kv("error", QStringLiteral("server_error")), state})
                                              << false << false << P << QStringLiteral("server_error");
        QTest::newRow("weird error code is not echoed as code")
            << q({kv("error", QStringLiteral("<script>")), state}) << false << false << P
            << QStringLiteral("authorization_error");
        QTest::newRow("error with wrong state → state_mismatch")
            << q({kv("error", QStringLiteral("access_denied")), kv("error_description", kDescription),
                  kv("state", QStringLiteral("forged"))})
            << true << false << S << QStringLiteral("state_mismatch");
        QTest::newRow("error with wrong iss → iss_mismatch")
            << q({kv("error", QStringLiteral("access_denied")), kv("error_description", kDescription), state,
                  kv("iss", QStringLiteral("https://evil.example.com"))})
            << false << false << S << QStringLiteral("iss_mismatch");
        QTest::newRow("missing code")
            << q({state, iss}) << true << false << P << QStringLiteral("invalid_response");
        QTest::newRow("empty code") << q({kv("code", QString()), state, iss}) << true << false << P
                                    << QStringLiteral("invalid_response");
        QTest::newRow("repeated code") << q({code, kv("code", QStringLiteral("second")), state, iss}) << true
                                       << false << P << QStringLiteral("invalid_response");
    }
    void validate()
    {
        QFETCH(QUrlQuery, query);
        QFETCH(bool, issSupported);
        QFETCH(bool, ok);
        QFETCH(Error::Category, category);
        QFETCH(QString, code);

        const Result<QString> r = AuthorizationResponse::validate(query, kState, kIssuer, issSupported);
        QCOMPARE(r.ok(), ok);
        if (ok) {
            QCOMPARE(r.value(), code);
            return;
        }
        QCOMPARE(r.error().category, category);
        QCOMPARE(r.error().code, code);
        QVERIFY(!r.error().message.isEmpty());
        // Never echo the state or the code into a message.
        QVERIFY(!r.error().message.contains(kState));
        QVERIFY(!r.error().message.contains(QStringLiteral("SplxlOBeZQQYbYS6WxSbIA")));
        // A response that does not belong to us shows nothing the sender wrote.
        if (category == Error::Category::Security) {
            QVERIFY2(!r.error().message.contains(QStringLiteral("555-0100")), qPrintable(r.error().message));
            QVERIFY(!r.error().message.contains(QStringLiteral("access_denied")));
        }
    }

    void errorMessageCarriesSanitisedDescription()
    {
        const QUrlQuery query = q({kv("error", QStringLiteral("access_denied")),
                                   kv("error_description", QStringLiteral("The user\r\ndenied\x01 access")),
                                   kv("state", kState)});
        const auto r = AuthorizationResponse::validate(query, kState, kIssuer, false);
        QVERIFY(!r.ok());
        QCOMPARE(
            r.error().message,
            QStringLiteral("the authorization server refused: access_denied (The user  denied  access)"));
    }

    void errorWithoutDescription()
    {
        const auto r = AuthorizationResponse::validate(
            q({kv("error", QStringLiteral("access_denied")), kv("state", kState)}), kState, kIssuer, false);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().message, QStringLiteral("the authorization server refused: access_denied"));
    }

    void longDescriptionIsCut()
    {
        const QString longText(5000, QLatin1Char('a'));
        const auto r =
            AuthorizationResponse::validate(q({kv("error", QStringLiteral("invalid_scope")),
                                               kv("error_description", longText), kv("state", kState)}),
                                            kState, kIssuer, false);
        QVERIFY(!r.ok());
        QVERIFY2(r.error().message.size() < 260, qPrintable(QString::number(r.error().message.size())));
        QVERIFY(r.error().message.contains(QString(200, QLatin1Char('a')) + QChar(0x2026)));
    }

    void emptyExpectedStateNeverMatches()
    {
        // A caller bug (no state recorded) must not turn into "anything goes".
        const auto r = AuthorizationResponse::validate(
            q({kv("code", QStringLiteral("c")), kv("state", QString())}), QString(), kIssuer, false);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QStringLiteral("state_mismatch"));
    }

    void decodesPercentEncodedIssuer()
    {
        // The issuer arrives percent-encoded in the redirect; compare the decoded value.
        const QUrlQuery query(QStringLiteral("code=abc&state=") + kState +
                              QStringLiteral("&iss=https%3A%2F%2Fas.example.com"));
        const auto r = AuthorizationResponse::validate(query, kState, kIssuer, true);
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error().message));
        QCOMPARE(r.value(), QStringLiteral("abc"));
    }
};

QTEST_GUILESS_MAIN(TestAuthorizationResponse)
#include "TestAuthorizationResponse.moc"
