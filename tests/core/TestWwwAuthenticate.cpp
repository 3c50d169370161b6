#include "discovery/WwwAuthenticate.h"

#include <QTest>

using namespace mcpauth;

namespace {

QList<QByteArray> lines(const QStringList &values)
{
    QList<QByteArray> out;
    for (const QString &v : values)
        out << v.toUtf8();
    return out;
}

/// Renders challenges as `Scheme[token68]{k=v|k=v}; …` so one string column can state the result.
QString render(const QList<AuthChallenge> &challenges)
{
    QStringList out;
    for (const AuthChallenge &c : challenges) {
        QString s = c.scheme;
        if (!c.token68.isEmpty())
            s += QLatin1Char('[') + c.token68 + QLatin1Char(']');
        if (!c.params.isEmpty()) {
            QStringList params;
            for (auto it = c.params.cbegin(); it != c.params.cend(); ++it)
                params << it.key() + QLatin1Char('=') + it.value();
            s += QLatin1Char('{') + params.join(QLatin1Char('|')) + QLatin1Char('}');
        }
        out << s;
    }
    return out.join(QStringLiteral("; "));
}

} // namespace

class TestWwwAuthenticate : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parse_data()
    {
        QTest::addColumn<QStringList>("headers");
        QTest::addColumn<QString>("expected");

        QTest::newRow("simple") << QStringList{u"Bearer realm=\"x\""_qs} << u"Bearer{realm=x}"_qs;
        QTest::newRow("token-values") << QStringList{u"Bearer error=invalid_token, scope=read"_qs}
                                      << u"Bearer{error=invalid_token|scope=read}"_qs;
        QTest::newRow("quoted-comma-equals")
            << QStringList{u"Bearer scope=\"a, b=c\", realm=\"r\""_qs} << u"Bearer{realm=r|scope=a, b=c}"_qs;
        QTest::newRow("escaped-quotes")
            << QStringList{u"Bearer error_description=\"say \\\"hi\\\", then \\\\ go\""_qs}
            << u"Bearer{error_description=say \"hi\", then \\ go}"_qs;
        QTest::newRow("several-in-one-line")
            << QStringList{u"DPoP algs=\"ES256\", Bearer realm=\"x\", scope=\"a b\", resource_metadata=\"https://m.example.com/.well-known/oauth-protected-resource\""_qs}
            << u"DPoP{algs=ES256}; Bearer{realm=x|resource_metadata=https://m.example.com/.well-known/oauth-protected-resource|scope=a b}"_qs;
        QTest::newRow("across-lines") << QStringList{u"Basic realm=\"b\""_qs, u"Bearer scope=\"s\""_qs}
                                      << u"Basic{realm=b}; Bearer{scope=s}"_qs;
        QTest::newRow("token68") << QStringList{u"Basic abc==, Bearer realm=\"x\""_qs}
                                 << u"Basic[abc==]; Bearer{realm=x}"_qs;
        QTest::newRow("token68-no-padding") << QStringList{u"Negotiate a+b/c"_qs} << u"Negotiate[a+b/c]"_qs;
        QTest::newRow("bare-schemes") << QStringList{u"Negotiate, NTLM"_qs} << u"Negotiate; NTLM"_qs;
        QTest::newRow("whitespace") << QStringList{u"  Bearer   realm = \"x\" ,\t scope =y  ,  "_qs}
                                    << u"Bearer{realm=x|scope=y}"_qs;
        QTest::newRow("case-insensitive-names")
            << QStringList{u"BEARER Realm=\"x\", SCOPE=\"y\""_qs} << u"BEARER{realm=x|scope=y}"_qs;
        QTest::newRow("duplicate-param-first-wins")
            << QStringList{u"Bearer scope=a, scope=b"_qs} << u"Bearer{scope=a}"_qs;
        QTest::newRow("empty-quoted-value")
            << QStringList{u"Bearer scope=\"\", realm=x"_qs} << u"Bearer{realm=x|scope=}"_qs;
        // Malformed input: never a crash or a hang, keep what is sound.
        QTest::newRow("empty") << QStringList{QString()} << QString();
        QTest::newRow("no-lines") << QStringList{} << QString();
        QTest::newRow("lone-commas") << QStringList{u" , ,, ,"_qs} << QString();
        QTest::newRow("unterminated-quote")
            << QStringList{u"Bearer realm=\"x\", resource_metadata=\"https://evil.example.com/"_qs}
            << u"Bearer{realm=x}"_qs;
        QTest::newRow("unterminated-then-next-line")
            << QStringList{u"Bearer scope=\"abc"_qs, u"Basic realm=\"y\""_qs} << u"Bearer; Basic{realm=y}"_qs;
        QTest::newRow("trailing-backslash") << QStringList{u"Bearer realm=\"x\\"_qs} << u"Bearer"_qs;
        QTest::newRow("junk-start") << QStringList{u"\"quoted\", @@, Bearer realm=x"_qs}
                                    << u"Bearer{realm=x}"_qs;
        QTest::newRow("junk-after-value")
            << QStringList{u"Bearer realm=\"x\"junk, scope=s"_qs} << u"Bearer{realm=x|scope=s}"_qs;
        QTest::newRow("missing-value")
            << QStringList{u"Bearer realm=, scope=s"_qs} << u"Bearer[realm=]"_qs; // grammatically a token68
        QTest::newRow("equals-only") << QStringList{u"=,=,=x"_qs} << QString();
        QTest::newRow("scheme-glued-to-quote") << QStringList{u"Bearer\"x\", Basic"_qs} << u"Basic"_qs;
    }
    void parse()
    {
        QFETCH(QStringList, headers);
        QFETCH(QString, expected);
        QCOMPARE(render(WwwAuthenticate::parse(lines(headers))), expected);
    }

    void bearer_data()
    {
        QTest::addColumn<QStringList>("headers");
        QTest::addColumn<bool>("present");
        QTest::addColumn<QString>("resourceMetadata");
        QTest::addColumn<QString>("scope");
        QTest::addColumn<QString>("error");

        QTest::newRow("full")
            << QStringList{u"Bearer error=\"insufficient_scope\", scope=\"files:read files:write\", resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\", error_description=\"need more\""_qs}
            << true << u"https://mcp.example.com/.well-known/oauth-protected-resource/mcp"_qs
            << u"files:read files:write"_qs << u"insufficient_scope"_qs;
        QTest::newRow("after-dpop") << QStringList{u"DPoP algs=\"ES256 PS256\", bearer scope=\"x\""_qs}
                                    << true << QString() << u"x"_qs << QString();
        QTest::newRow("second-line") << QStringList{u"Basic realm=\"b\""_qs, u"Bearer scope=\"y\""_qs} << true
                                     << QString() << u"y"_qs << QString();
        QTest::newRow("other-schemes-only") << QStringList{u"Basic realm=\"b\", DPoP algs=\"ES256\""_qs}
                                            << false << QString() << QString() << QString();
        QTest::newRow("no-header") << QStringList{} << false << QString() << QString() << QString();
        QTest::newRow("bare-bearer") << QStringList{u"Bearer"_qs} << true << QString() << QString()
                                     << QString();
        QTest::newRow("relative-resource-metadata")
            << QStringList{u"Bearer resource_metadata=\"/.well-known/oauth-protected-resource\""_qs} << true
            << QString() << QString() << QString();
        QTest::newRow("ftp-resource-metadata")
            << QStringList{u"Bearer resource_metadata=\"ftp://x.example.com/m\""_qs} << true << QString()
            << QString() << QString();
        QTest::newRow("garbage-resource-metadata") << QStringList{u"Bearer resource_metadata=\"http://\""_qs}
                                                   << true << QString() << QString() << QString();
        QTest::newRow("loopback-http-resource-metadata")
            << QStringList{u"Bearer resource_metadata=\"http://127.0.0.1:8080/prm\""_qs} << true
            << u"http://127.0.0.1:8080/prm"_qs << QString() << QString();
        QTest::newRow("first-bearer-wins")
            << QStringList{u"Bearer scope=a, Bearer scope=b"_qs} << true << QString() << u"a"_qs << QString();
    }
    void bearer()
    {
        QFETCH(QStringList, headers);
        QFETCH(bool, present);
        QFETCH(QString, resourceMetadata);
        QFETCH(QString, scope);
        QFETCH(QString, error);
        const BearerChallenge c = WwwAuthenticate::bearer(lines(headers));
        QCOMPARE(c.present, present);
        QCOMPARE(c.resourceMetadata.toString(), resourceMetadata);
        QCOMPARE(c.scope, scope);
        QCOMPARE(c.error, error);
    }

    void bearerErrorDescription()
    {
        const BearerChallenge c = WwwAuthenticate::bearer({QByteArrayLiteral(
            "Bearer error=\"invalid_token\", error_description=\"The token \\\"x\\\" expired\"")});
        QCOMPARE(c.errorDescription, QStringLiteral("The token \"x\" expired"));
    }

    // Random bytes must terminate and never crash; the parser makes progress on every character.
    void fuzzTerminates()
    {
        const QByteArray alphabet = QByteArrayLiteral("Bb =\",\\\t aer=x/+~\x01\xff");
        quint32 seed = 12345;
        for (int round = 0; round < 3000; ++round) {
            QByteArray value;
            const int len = int(seed % 40);
            for (int i = 0; i < len; ++i) {
                seed = seed * 1103515245u + 12345u;
                value += alphabet.at(qsizetype((seed >> 16) % quint32(alphabet.size())));
            }
            seed = seed * 1103515245u + 12345u;
            const QList<AuthChallenge> challenges = WwwAuthenticate::parse({value});
            QVERIFY(challenges.size() <= value.size());
        }
    }
};

QTEST_GUILESS_MAIN(TestWwwAuthenticate)
#include "TestWwwAuthenticate.moc"
