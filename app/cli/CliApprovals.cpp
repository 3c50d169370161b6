#include "Cli.h"
#include "CliOutput.h"

#include "common/Json.h"

#include <QDateTime>

// mcp-auth's approval commands (issue 8): what waits for the user, the user's decision, and the
// grants the agent remembers. They work headless: the tray shows the same through the same socket.

namespace mcpauth {

namespace {

QString when(qint64 unixSeconds)
{
    if (unixSeconds <= 0)
        return QStringLiteral("never");
    return QDateTime::fromSecsSinceEpoch(unixSeconds).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

} // namespace

bool Cli::parseRest(QCommandLineParser &parser, int positionals, const QString &what)
{
    QStringList rest = m_args;
    rest.removeAt(1);
    if (!parser.parse(rest)) {
        usage(parser.errorText());
        return false;
    }
    if (parser.positionalArguments().size() != positionals) {
        usage(what);
        return false;
    }
    return true;
}

void Cli::cmdApprovals()
{
    QCommandLineParser parser;
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("machine-readable output"));
    parser.addOption(json);
    if (!parseRest(parser, 0, QStringLiteral("approvals takes no arguments")))
        return;
    const bool asJson = parser.isSet(json);
    withAgent(false, [this, asJson] {
        m_agent->call(QStringLiteral("approvals/list"), Json(), [this, asJson](Result<Json> r) {
            if (!r)
                return fail(r.error());
            const Json list = r->value("approvals", Json::array());
            if (asJson) {
                out(QString::fromUtf8(toBytes(list)));
                return finish(Ok);
            }
            if (!jsonBool(r.value(), "required").value_or(false))
                out(QStringLiteral("approvals are off: every app of yours gets tokens without asking"));
            else if (list.empty())
                out(QStringLiteral("nothing waits for approval"));
            for (const Json &a : list) {
                const qint64 left = jsonInt(a, "expiresAt").value_or(0) - QDateTime::currentSecsSinceEpoch();
                out(QStringLiteral("%1  %2 wants %3%4 (%5, %6 s left)\n    approve: mcp-auth approve %1 "
                                   "[--always|--while-running]   deny: mcp-auth deny %1")
                        .arg(jsonString(a, "id"), jsonString(a, "app"), jsonString(a, "server"),
                             jsonString(a, "scopes").isEmpty()
                                 ? QString()
                                 : QStringLiteral(" [") + jsonString(a, "scopes") + QLatin1Char(']'),
                             jsonString(a, "executable"))
                        .arg(std::max<qint64>(0, left)));
            }
            finish(Ok);
        });
    });
}

void Cli::cmdDecide(bool deny)
{
    QCommandLineParser parser;
    const QCommandLineOption always(QStringLiteral("always"), QStringLiteral("remember: allow from now on"));
    const QCommandLineOption whileRunning(QStringLiteral("while-running"),
                                          QStringLiteral("allow until the app exits"));
    if (!deny)
        parser.addOptions({always, whileRunning});
    if (!parseRest(parser, 1,
                   QStringLiteral("expected the id of a waiting request (see: mcp-auth approvals)")))
        return;
    if (!deny && parser.isSet(always) && parser.isSet(whileRunning))
        return usage(QStringLiteral("--always or --while-running, not both"));
    const QString id = parser.positionalArguments().first();
    const char *decision = deny                         ? "deny"
                           : parser.isSet(always)       ? "always"
                           : parser.isSet(whileRunning) ? "while-running"
                                                        : "once";
    withAgent(false, [this, id, decision] {
        m_agent->call(QStringLiteral("approvals/decide"), Json{{"id", toStd(id)}, {"decision", decision}},
                      [this, id, decision](Result<Json> r) {
                          if (!r)
                              return fail(r.error());
                          out(QStringLiteral("%1: %2").arg(id, QString::fromLatin1(decision)));
                          finish(Ok);
                      });
    });
}

void Cli::cmdGrants()
{
    QCommandLineParser parser;
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("machine-readable output"));
    parser.addOption(json);
    if (!parseRest(parser, 0, QStringLiteral("grants takes no arguments")))
        return;
    const bool asJson = parser.isSet(json);
    withAgent(false, [this, asJson] {
        m_agent->call(QStringLiteral("grants/list"), Json(), [this, asJson](Result<Json> r) {
            if (!r)
                return fail(r.error());
            const Json list = r->value("grants", Json::array());
            if (asJson) {
                out(QString::fromUtf8(toBytes(list)));
                return finish(Ok);
            }
            if (list.empty())
                out(QStringLiteral("no app has a standing grant"));
            for (const Json &g : list)
                out(QStringLiteral("%1  %2 → %3  (%4; last used %5, %6 uses)\n    %7")
                        .arg(jsonString(g, "id"), jsonString(g, "app"), jsonString(g, "server"),
                             jsonString(g, "kind"), when(jsonInt(g, "lastUsedAt").value_or(0)))
                        .arg(jsonInt(g, "uses").value_or(0))
                        .arg(jsonString(g, "executable")));
            finish(Ok);
        });
    });
}

void Cli::cmdRevokeGrant()
{
    QCommandLineParser parser;
    const QCommandLineOption app(QStringLiteral("app"), QStringLiteral("every grant of this app (its path)"),
                                 QStringLiteral("PATH"));
    const QCommandLineOption server(QStringLiteral("server"), QStringLiteral("only for this server"),
                                    QStringLiteral("URL"));
    parser.addOptions({app, server});
    QStringList rest = m_args;
    rest.removeAt(1);
    if (!parser.parse(rest))
        return usage(parser.errorText());
    const QStringList ids = parser.positionalArguments();
    if ((ids.size() == 1) == parser.isSet(app) || ids.size() > 1 ||
        (parser.isSet(server) && !parser.isSet(app)))
        return usage(QStringLiteral("revoke-grant ID, or revoke-grant --app PATH [--server URL]"));
    Json params = Json::object();
    if (!ids.isEmpty())
        params["id"] = toStd(ids.first());
    else
        params["app"] = toStd(parser.value(app));
    if (parser.isSet(server))
        params["server"] = toStd(parser.value(server));
    withAgent(false, [this, params] {
        m_agent->call(QStringLiteral("grants/revoke"), params, [this](Result<Json> r) {
            if (!r)
                return fail(r.error());
            const qint64 n = jsonInt(r.value(), "revoked").value_or(0);
            out(n == 0 ? QStringLiteral("no grant matched") : QStringLiteral("revoked %1 grant(s)").arg(n));
            finish(n == 0 ? Failure : Ok);
        });
    });
}

} // namespace mcpauth
