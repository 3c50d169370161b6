#include "login/Pkce.h"

#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace mcpauth;

class TestPkce : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void rfc7636AppendixB()
    {
        // RFC 7636 Appendix B: the 32 octets, their base64url verifier and its S256 challenge.
        const QByteArray octets =
            QByteArray::fromRawData("\x74\x18\xdf\xb4\x97\x99\xe0\x25\x4f\xfa\x60\x7d\xd8\xad\xbb\xba"
                                    "\x16\xd4\x25\x4d\x69\xd6\xbf\xf0\x5b\x58\x05\x58\x53\x84\x8d\x79",
                                    32);
        const QString verifier = QStringLiteral("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        QCOMPARE(QString::fromLatin1(
                     octets.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)),
                 verifier);
        QCOMPARE(Pkce::challengeFor(verifier), QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    void challengeDependsOnEveryCharacter()
    {
        const QString a = QStringLiteral("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        QString b = a;
        b[b.size() - 1] = QLatin1Char('l');
        QVERIFY(Pkce::challengeFor(a) != Pkce::challengeFor(b));
    }

    void generatedVerifierIsWellFormed()
    {
        // RFC 7636 §4.1: 43..128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
        static const QRegularExpression verifierShape(QStringLiteral("^[A-Za-z0-9._~-]{43,128}$"));
        // S256 challenge: 32-byte digest in base64url without padding.
        static const QRegularExpression challengeShape(QStringLiteral("^[A-Za-z0-9_-]{43}$"));
        for (int i = 0; i < 200; ++i) {
            const Pkce p = Pkce::generate();
            QVERIFY2(verifierShape.match(p.verifier).hasMatch(), qPrintable(p.verifier));
            QCOMPARE(p.verifier.size(), 43);
            QVERIFY2(challengeShape.match(p.challenge).hasMatch(), qPrintable(p.challenge));
            QVERIFY(p.challenge != p.verifier); // S256, never plain
            QCOMPARE(Pkce::challengeFor(p.verifier), p.challenge);
        }
    }

    void generatedPairsAreUnique()
    {
        QSet<QString> verifiers;
        QSet<QString> challenges;
        for (int i = 0; i < 500; ++i) {
            const Pkce p = Pkce::generate();
            verifiers.insert(p.verifier);
            challenges.insert(p.challenge);
        }
        QCOMPARE(verifiers.size(), 500);
        QCOMPARE(challenges.size(), 500);
    }
};

QTEST_GUILESS_MAIN(TestPkce)
#include "TestPkce.moc"
