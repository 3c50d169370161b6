#include "login/AuthorizationRequest.h"

#include <QTest>
#include <QUrlQuery>

using namespace mcpauth;

namespace {

using Pairs = QList<QPair<QString, QString>>;

AuthorizationRequest::Params baseParams()
{
    AuthorizationRequest::Params p;
    p.authorizationEndpoint = QUrl(QStringLiteral("https://as.example.com/oauth2/authorize"));
    p.clientId = QStringLiteral("client-123");
    p.redirectUri = QStringLiteral("http://127.0.0.1:49152/callback");
    p.codeChallenge = QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    p.state = QStringLiteral("st4te_-value");
    p.resource = QStringLiteral("https://mcp.example.com/mcp");
    p.scope = QStringLiteral("files:read files:write");
    return p;
}

// The raw key=value pairs of the encoded query, as an application/x-www-form-urlencoded parser at
// the AS would read them ('+' is a space there, RFC 6749 Appendix B).
Pairs formDecode(const QUrl &url)
{
    Pairs out;
    const QByteArray raw = url.query(QUrl::FullyEncoded).toLatin1();
    for (const QByteArray &pair : raw.split('&')) {
        const qsizetype eq = pair.indexOf('=');
        QByteArray key = eq < 0 ? pair : pair.left(eq);
        QByteArray value = eq < 0 ? QByteArray() : pair.mid(eq + 1);
        out.append({QUrl::fromPercentEncoding(key.replace('+', ' ')),
                    QUrl::fromPercentEncoding(value.replace('+', ' '))});
    }
    return out;
}

QStringList valuesOf(const Pairs &pairs, const QString &key)
{
    QStringList out;
    for (const auto &[k, v] : pairs)
        if (k == key)
            out.append(v);
    return out;
}

} // namespace

class TestAuthorizationRequest : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void carriesEveryParameterOnce()
    {
        const QUrl url = AuthorizationRequest::build(baseParams());
        QCOMPARE(url.scheme(), QStringLiteral("https"));
        QCOMPARE(url.host(), QStringLiteral("as.example.com"));
        QCOMPARE(url.path(), QStringLiteral("/oauth2/authorize"));

        const Pairs form = formDecode(url);
        const QList<QPair<QString, QString>> expected = {
            {QStringLiteral("response_type"), QStringLiteral("code")},
            {QStringLiteral("client_id"), QStringLiteral("client-123")},
            {QStringLiteral("redirect_uri"), QStringLiteral("http://127.0.0.1:49152/callback")},
            {QStringLiteral("code_challenge"), QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")},
            {QStringLiteral("code_challenge_method"), QStringLiteral("S256")},
            {QStringLiteral("state"), QStringLiteral("st4te_-value")},
            {QStringLiteral("resource"), QStringLiteral("https://mcp.example.com/mcp")},
            {QStringLiteral("scope"), QStringLiteral("files:read files:write")},
        };
        QCOMPARE(form, expected);
        // No prompt unless asked for.
        QVERIFY(valuesOf(form, QStringLiteral("prompt")).isEmpty());

        // Plain RFC 3986 parsing (QUrlQuery) reads back the same values.
        const QUrlQuery query(url);
        for (const auto &[key, value] : expected)
            QCOMPARE(query.queryItemValue(key, QUrl::FullyDecoded), value);
    }

    void encodesUnambiguously()
    {
        const QString encoded = AuthorizationRequest::build(baseParams()).toString(QUrl::FullyEncoded);
        // RFC 8707 / MCP example: resource=https%3A%2F%2Fmcp.example.com; space as %20, never '+'.
        QVERIFY2(encoded.contains(QStringLiteral("&resource=https%3A%2F%2Fmcp.example.com%2Fmcp&")),
                 qPrintable(encoded));
        QVERIFY2(encoded.contains(QStringLiteral("&redirect_uri=http%3A%2F%2F127.0.0.1%3A49152%2Fcallback&")),
                 qPrintable(encoded));
        QVERIFY2(encoded.contains(QStringLiteral("&scope=files%3Aread%20files%3Awrite")),
                 qPrintable(encoded));
        // The string form of the URL (what the browser launcher gets) keeps the same encoding.
        const QUrl reparsed(encoded, QUrl::StrictMode);
        QVERIFY(reparsed.isValid());
        QCOMPARE(reparsed.toString(QUrl::FullyEncoded), encoded);
    }

    void awkwardValuesSurviveTheRoundTrip_data()
    {
        QTest::addColumn<QString>("value");
        QTest::newRow("plus") << QStringLiteral("a+b");
        QTest::newRow("ampersand and equals") << QStringLiteral("x&scope=admin");
        QTest::newRow("hash and question") << QStringLiteral("p?q#frag");
        QTest::newRow("percent") << QStringLiteral("100%25 %zz");
        QTest::newRow("unicode") << QStringLiteral("Zürich ✓");
        QTest::newRow("resource with query") << QStringLiteral("https://mcp.example.com/mcp?tenant=a&b=c");
    }
    void awkwardValuesSurviveTheRoundTrip()
    {
        QFETCH(QString, value);
        auto p = baseParams();
        p.scope = value;
        p.resource = value;
        p.state = value;
        const QUrl url = AuthorizationRequest::build(p);
        const Pairs form = formDecode(url);
        QCOMPARE(valuesOf(form, QStringLiteral("scope")), QStringList{value});
        QCOMPARE(valuesOf(form, QStringLiteral("resource")), QStringList{value});
        QCOMPARE(valuesOf(form, QStringLiteral("state")), QStringList{value});
        QCOMPARE(url.fragment(), QString()); // '#' in a value must not start a fragment
        QCOMPARE(QUrlQuery(url).queryItemValue(QStringLiteral("scope"), QUrl::FullyDecoded), value);
    }

    void omitsEmptyScope()
    {
        auto p = baseParams();
        p.scope.clear();
        const QUrl url = AuthorizationRequest::build(p);
        QVERIFY(!QUrlQuery(url).hasQueryItem(QStringLiteral("scope")));
        QVERIFY(!url.toString(QUrl::FullyEncoded).contains(QStringLiteral("scope")));
    }

    void promptConsentOnlyWhenAsked()
    {
        auto p = baseParams();
        p.promptConsent = true;
        const Pairs form = formDecode(AuthorizationRequest::build(p));
        QCOMPARE(valuesOf(form, QStringLiteral("prompt")), QStringList{QStringLiteral("consent")});
    }

    void keepsTheEndpointsOwnQuery()
    {
        auto p = baseParams();
        // RFC 6749 §3.1: the endpoint query is retained; a colliding reserved key is not duplicated.
        p.authorizationEndpoint = QUrl(
            QStringLiteral("https://as.example.com/"
                           "authorize?tenant=acme%20corp&p=b2c_1_signin&state=evil&response_type=token"));
        const Pairs form = formDecode(AuthorizationRequest::build(p));
        QCOMPARE(form.at(0), qMakePair(QStringLiteral("tenant"), QStringLiteral("acme corp")));
        QCOMPARE(form.at(1), qMakePair(QStringLiteral("p"), QStringLiteral("b2c_1_signin")));
        QCOMPARE(valuesOf(form, QStringLiteral("state")), QStringList{QStringLiteral("st4te_-value")});
        QCOMPARE(valuesOf(form, QStringLiteral("response_type")), QStringList{QStringLiteral("code")});
    }

    void extraParamsCannotOverrideReservedOnes()
    {
        auto p = baseParams();
        p.extra = {
            {QStringLiteral("state"), QStringLiteral("attacker")},
            {QStringLiteral("code_challenge_method"), QStringLiteral("plain")},
            {QStringLiteral("redirect_uri"), QStringLiteral("https://evil.example/cb")},
            {QStringLiteral("resource"), QStringLiteral("https://other.example")},
            {QStringLiteral("scope"), QStringLiteral("admin")},
            {QStringLiteral("prompt"), QStringLiteral("none")},
            {QStringLiteral("code_verifier"), QStringLiteral("leak")},
            {QStringLiteral("login_hint"), QStringLiteral("user@example.com")},
            {QStringLiteral("login_hint"), QStringLiteral("second@example.com")},
            {QString(), QStringLiteral("no key")},
        };
        const Pairs form = formDecode(AuthorizationRequest::build(p));
        QCOMPARE(valuesOf(form, QStringLiteral("state")), QStringList{QStringLiteral("st4te_-value")});
        QCOMPARE(valuesOf(form, QStringLiteral("code_challenge_method")),
                 QStringList{QStringLiteral("S256")});
        QCOMPARE(valuesOf(form, QStringLiteral("redirect_uri")),
                 QStringList{QStringLiteral("http://127.0.0.1:49152/callback")});
        QCOMPARE(valuesOf(form, QStringLiteral("resource")),
                 QStringList{QStringLiteral("https://mcp.example.com/mcp")});
        QCOMPARE(valuesOf(form, QStringLiteral("scope")),
                 QStringList{QStringLiteral("files:read files:write")});
        QVERIFY(valuesOf(form, QStringLiteral("prompt")).isEmpty());
        QVERIFY(valuesOf(form, QStringLiteral("code_verifier")).isEmpty());
        QCOMPARE(valuesOf(form, QStringLiteral("login_hint")),
                 QStringList{QStringLiteral("user@example.com")});
        QCOMPARE(form.size(), 9); // 8 own + login_hint
    }

    void selectScope_data()
    {
        QTest::addColumn<QString>("challenge");
        QTest::addColumn<bool>("hasPrm");
        QTest::addColumn<QStringList>("prm");
        QTest::addColumn<QString>("expected");
        const QStringList prm = {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")};
        QTest::newRow("challenge wins") << QStringLiteral("b") << true << prm << QStringLiteral("b");
        QTest::newRow("challenge without prm")
            << QStringLiteral("x y") << false << QStringList() << QStringLiteral("x y");
        QTest::newRow("challenge whitespace normalised")
            << QStringLiteral("  x   y x ") << true << prm << QStringLiteral("x y");
        QTest::newRow("prm all") << QString() << true << prm << QStringLiteral("a b c");
        QTest::newRow("blank challenge falls back to prm")
            << QStringLiteral("   ") << true << prm << QStringLiteral("a b c");
        QTest::newRow("prm empty list") << QString() << true << QStringList() << QString();
        QTest::newRow("nothing → omitted") << QString() << false << QStringList() << QString();
    }
    void selectScope()
    {
        QFETCH(QString, challenge);
        QFETCH(bool, hasPrm);
        QFETCH(QStringList, prm);
        QFETCH(QString, expected);
        const std::optional<QStringList> prmScopes = hasPrm ? std::optional<QStringList>(prm) : std::nullopt;
        QCOMPARE(AuthorizationRequest::selectScope(challenge, prmScopes), expected);
    }

    void withOfflineAccess_data()
    {
        QTest::addColumn<QString>("scope");
        QTest::addColumn<bool>("offered");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<bool>("prompt");
        QTest::newRow("offered → appended")
            << QStringLiteral("read") << true << QStringLiteral("read offline_access") << true;
        QTest::newRow("not offered → unchanged")
            << QStringLiteral("read") << false << QStringLiteral("read") << false;
        QTest::newRow("already there → no duplicate")
            << QStringLiteral("offline_access read") << true << QStringLiteral("offline_access read") << true;
        QTest::newRow("requested by the challenge, not listed")
            << QStringLiteral("read offline_access") << false << QStringLiteral("read offline_access")
            << true;
        QTest::newRow("empty scope stays omitted") << QString() << true << QString() << false;
    }
    void withOfflineAccess()
    {
        QFETCH(QString, scope);
        QFETCH(bool, offered);
        QFETCH(QString, expected);
        QFETCH(bool, prompt);
        bool promptConsent = false;
        QCOMPARE(AuthorizationRequest::withOfflineAccess(scope, offered, &promptConsent), expected);
        QCOMPARE(promptConsent, prompt);
        // A null pointer is allowed.
        QCOMPARE(AuthorizationRequest::withOfflineAccess(scope, offered, nullptr), expected);
    }

    void offlineAccessEndsInPromptConsent()
    {
        auto p = baseParams();
        p.scope = AuthorizationRequest::withOfflineAccess(p.scope, true, &p.promptConsent);
        const Pairs form = formDecode(AuthorizationRequest::build(p));
        QCOMPARE(valuesOf(form, QStringLiteral("scope")),
                 QStringList{QStringLiteral("files:read files:write offline_access")});
        QCOMPARE(valuesOf(form, QStringLiteral("prompt")), QStringList{QStringLiteral("consent")});
    }

    void unionScopes_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<QString>("expected");
        QTest::newRow("disjoint") << QStringLiteral("a b") << QStringLiteral("c") << QStringLiteral("a b c");
        QTest::newRow("overlap keeps first order")
            << QStringLiteral("b a") << QStringLiteral("a c b") << QStringLiteral("b a c");
        QTest::newRow("empty first") << QString() << QStringLiteral("x") << QStringLiteral("x");
        QTest::newRow("empty second") << QStringLiteral("x") << QString() << QStringLiteral("x");
        QTest::newRow("both empty") << QString() << QString() << QString();
        QTest::newRow("case-sensitive")
            << QStringLiteral("Read") << QStringLiteral("read") << QStringLiteral("Read read");
        QTest::newRow("extra spaces")
            << QStringLiteral(" a  a ") << QStringLiteral("  b ") << QStringLiteral("a b");
    }
    void unionScopes()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(QString, expected);
        QCOMPARE(AuthorizationRequest::unionScopes(a, b), expected);
    }
};

QTEST_GUILESS_MAIN(TestAuthorizationRequest)
#include "TestAuthorizationRequest.moc"
