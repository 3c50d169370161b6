#include "Cli.h"
#include "CliOutput.h"

#include "audit/AuditLog.h"
#include "common/Json.h"

#include <QDateTime>
#include <QRegularExpression>

// `mcp-auth audit`: reads the agent's audit log itself, so it works whether or not an agent runs.

namespace mcpauth {

namespace {

/// "90s", "15m", "2h", "7d" (or a bare number of seconds) → seconds; nullopt when malformed.
std::optional<qint64> parseDuration(const QString &text)
{
    static const QRegularExpression re(QStringLiteral("^([0-9]{1,9})([smhd]?)$"));
    const QRegularExpressionMatch m = re.match(text.trimmed());
    if (!m.hasMatch())
        return std::nullopt;
    const qint64 n = m.captured(1).toLongLong();
    const QString unit = m.captured(2);
    const qint64 factor = unit == QLatin1String("m")   ? 60
                          : unit == QLatin1String("h") ? 3600
                          : unit == QLatin1String("d") ? 86400
                                                       : 1;
    return n * factor;
}

QString describe(const Json &e)
{
    const QString event = jsonString(e, "event");
    QString line = QStringLiteral("%1  %2").arg(jsonString(e, "time"), event);
    const QString app = jsonString(e, "app");
    if (!app.isEmpty())
        line += QStringLiteral("  ") + app;
    if (!jsonString(e, "server").isEmpty())
        line += QStringLiteral(" → ") + jsonString(e, "server");
    if (const std::optional<qint64> n = jsonInt(e, "count"); n && *n > 1)
        line += QStringLiteral(" ×%1").arg(*n);
    if (!jsonString(e, "decision").isEmpty())
        line +=
            QStringLiteral(": ") + jsonString(e, "decision") + QStringLiteral(" by ") + jsonString(e, "by");
    if (!jsonString(e, "outcome").isEmpty())
        line += QStringLiteral(": ") + jsonString(e, "outcome");
    if (!jsonString(e, "reason").isEmpty())
        line += QStringLiteral(" (") + jsonString(e, "reason") + QLatin1Char(')');
    if (!jsonString(e, "scopes").isEmpty())
        line += QStringLiteral("  [") + jsonString(e, "scopes") + QLatin1Char(']');
    return line;
}

} // namespace

void Cli::cmdAudit()
{
    QCommandLineParser parser;
    const QCommandLineOption since(QStringLiteral("since"),
                                   QStringLiteral("only the last DURATION (30m, 2h, 7d)"),
                                   QStringLiteral("DURATION"));
    const QCommandLineOption server(QStringLiteral("server"), QStringLiteral("only this server"),
                                    QStringLiteral("URL"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("one JSON object per line"));
    parser.addOptions({since, server, json});
    if (!parseRest(parser, 0, QStringLiteral("audit takes no arguments")))
        return;
    QDateTime from;
    if (parser.isSet(since)) {
        const std::optional<qint64> seconds = parseDuration(parser.value(since));
        if (!seconds)
            return usage(QStringLiteral("--since takes a duration such as 90s, 30m, 2h or 7d"));
        from = QDateTime::currentDateTimeUtc().addSecs(-*seconds);
    }
    const QString onlyServer = parser.value(server);
    const QList<Json> lines = AuditLog::read(AuditLog::defaultPath(), [&](const Json &e) {
        if (from.isValid() && QDateTime::fromString(jsonString(e, "time"), Qt::ISODate) < from)
            return false;
        const QString s = jsonString(e, "server");
        return onlyServer.isEmpty() || s == onlyServer || s == onlyServer + QLatin1Char('/') ||
               s + QLatin1Char('/') == onlyServer;
    });
    for (const Json &e : lines)
        out(parser.isSet(json) ? QString::fromUtf8(toBytes(e)) : describe(e));
    if (lines.isEmpty() && !parser.isSet(json))
        out(QStringLiteral("nothing in the audit log%1")
                .arg(from.isValid() ? QStringLiteral(" for that time") : QString()));
    finish(Ok);
}

} // namespace mcpauth
