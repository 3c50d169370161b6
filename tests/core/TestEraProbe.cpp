#include "FakeTransport.h"
#include "proxy/EraProbe.h"

#include <QSignalSpy>
#include <QTest>

using namespace mcpauth;
using namespace mcpauth::test;

Q_DECLARE_METATYPE(mcpauth::EraProbe::Outcome)

namespace {

Json error(int code, Json data = nullptr)
{
    Json e{{"code", code}, {"message", "m"}};
    if (!data.is_null())
        e["data"] = data;
    return Json{{"jsonrpc", "2.0"}, {"id", "p"}, {"error", e}};
}

} // namespace

// Checklist B.9: every answer to the server/discover probe and the verdict it gives.
class TestEraProbe : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void classifies_data()
    {
        QTest::addColumn<QByteArray>("response");
        QTest::addColumn<bool>("retried");
        QTest::addColumn<int>("verdict"); // -1: probe again
        using V = EraProbe::Verdict;
        const auto row = [](const char *name, const Json &r, bool retried, int v) {
            QTest::newRow(name) << toBytes(r) << retried << v;
        };
        row("discover result, mutual version",
            Json{{"id", "p"},
                 {"result", {{"supportedVersions", {"2026-07-28"}}, {"capabilities", Json::object()}}}},
            false, int(V::Modern));
        row("discover result, no mutual version",
            Json{{"id", "p"}, {"result", {{"supportedVersions", {"2027-03-01"}}}}}, false, int(V::Legacy));
        row("-32022 with a mutual version: corrective probe", error(-32022, {{"supported", {"2026-07-28"}}}),
            false, -1);
        row("-32022 twice", error(-32022, {{"supported", {"2026-07-28"}}}), true, int(V::Failed));
        row("-32022 legacy versions only", error(-32022, {{"supported", {"2025-11-25"}}}), false,
            int(V::Legacy));
        row("-32022 without data", error(-32022), false, int(V::Legacy));
        row("-32022 only unknown modern versions", error(-32022, {{"supported", {"2027-03-01"}}}), false,
            int(V::Failed));
        row("-32020 header mismatch: modern", error(-32020), false, int(V::Modern));
        row("-32021 missing capability: modern", error(-32021), false, int(V::Modern));
        row("-32601 method not found: legacy", error(-32601), false, int(V::Legacy));
        row("-32000 session required: legacy", error(-32000), false, int(V::Legacy));
    }
    void classifies()
    {
        QFETCH(QByteArray, response);
        QFETCH(bool, retried);
        QFETCH(int, verdict);
        const std::optional<EraProbe::Outcome> o =
            EraProbe::classify(Json::parse(response.toStdString()), retried);
        QCOMPARE(bool(o), verdict >= 0);
        if (!o)
            return;
        QCOMPARE(int(o->verdict), verdict);
    }

    void probesThroughTheTransport()
    {
        FakeTransport t(TransportKind::Stateless);
        EraProbe probe(&t, Json::object(), Json{{"name", "p"}, {"version", "1"}});
        QSignalSpy done(&probe, &EraProbe::finished);
        probe.start();
        QCOMPARE(t.sent.size(), 1);
        const Json sent = t.sent[0].message;
        QCOMPARE(jsonString(sent, "method"), QStringLiteral("server/discover"));
        QVERIFY(sent["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] == Json("2026-07-28"));
        // request-metadata: the first answer is -32022; the corrective probe goes out at once.
        Q_EMIT t.messageReceived(
            Json{{"jsonrpc", "2.0"},
                 {"id", sent["id"]},
                 {"error", {{"code", -32022}, {"message", "x"}, {"data", {{"supported", {"2026-07-28"}}}}}}});
        QCOMPARE(t.sent.size(), 2);
        QVERIFY(t.sent[1].message["id"] != sent["id"]);
        t.reply(t.sent[1].message["id"],
                Json{{"supportedVersions", {"2026-07-28"}}, {"capabilities", {{"tools", Json::object()}}}});
        QCOMPARE(done.size(), 1);
        const auto o = done[0][0].value<EraProbe::Outcome>();
        QCOMPARE(o.verdict, EraProbe::Verdict::Modern);
        QVERIFY(o.discover["capabilities"].contains("tools"));
    }

    void authorizationAndFailuresAreNoVerdict()
    {
        FakeTransport t(TransportKind::Stateless);
        EraProbe probe(&t, Json::object(), nullptr);
        QSignalSpy done(&probe, &EraProbe::finished);
        probe.start();
        t.refuse(t.sent[0].message, 401);
        QCOMPARE(done[0][0].value<EraProbe::Outcome>().verdict, EraProbe::Verdict::AuthorizationRequired);

        const auto failWith = [](const QString &code, Error::Category category) {
            FakeTransport ft(TransportKind::Stateless);
            EraProbe p(&ft, Json::object(), nullptr);
            QSignalSpy spy(&p, &EraProbe::finished);
            p.start();
            Q_EMIT ft.sendFailed(ft.sent[0].message, Error{category, code, QStringLiteral("x")});
            return spy[0][0].value<EraProbe::Outcome>().verdict;
        };
        // §2.1: another 4xx without a modern body is a legacy server; 5xx and timeouts tell nothing.
        QCOMPARE(failWith(QStringLiteral("transport_unsupported"), Error::Category::Protocol),
                 EraProbe::Verdict::Legacy);
        QCOMPARE(failWith(QStringLiteral("http_error"), Error::Category::Protocol),
                 EraProbe::Verdict::Legacy);
        QCOMPARE(failWith(QStringLiteral("server_error"), Error::Category::Network),
                 EraProbe::Verdict::Failed);
        QCOMPARE(failWith(QStringLiteral("timeout"), Error::Category::Network), EraProbe::Verdict::Failed);
        QCOMPARE(failWith(QStringLiteral("malformed_response"), Error::Category::Protocol),
                 EraProbe::Verdict::Failed);
    }
};

QTEST_GUILESS_MAIN(TestEraProbe)
#include "TestEraProbe.moc"
