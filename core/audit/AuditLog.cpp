#include "audit/AuditLog.h"

#include "common/Clock.h"
#include "common/Log.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

namespace mcpauth {

namespace {

constexpr QFile::Permissions kOwnerFile = QFile::ReadOwner | QFile::WriteOwner;

std::string isoTime(qint64 unixSeconds)
{
    return toStd(QDateTime::fromSecsSinceEpoch(unixSeconds, Qt::UTC).toString(Qt::ISODate));
}

} // namespace

AuditLog::AuditLog(QString path, const Clock &clock, Options options, QObject *parent)
    : QObject(parent), m_path(std::move(path)), m_clock(clock), m_options(options)
{
    m_timer.setSingleShot(true);
    m_timer.setInterval(m_options.flushMs);
    connect(&m_timer, &QTimer::timeout, this, &AuditLog::flush);
}

AuditLog::~AuditLog()
{
    flush();
}

QString AuditLog::defaultPath()
{
    // XDG_STATE_HOME: logs and history that should persist but are not worth backing up.
    QString base = qEnvironmentVariable("XDG_STATE_HOME");
    if (base.isEmpty())
        base = QDir::homePath() + QStringLiteral("/.local/state");
    return base + QStringLiteral("/mcp-auth-agent/audit.log");
}

void AuditLog::record(const QString &event, Json fields)
{
    if (!fields.is_object())
        fields = Json::object();
    Json line = Json::object();
    line["time"] = isoTime(m_clock.now());
    line["event"] = toStd(event);
    line.update(fields);
    append(line);
}

void AuditLog::countToken(const QString &app, const QString &executable, const QString &server,
                          const QString &outcome)
{
    if (m_path.isEmpty())
        return;
    // Bounded whatever callers send (a client asking for 50,000 distinct URLs): past maxCounts
    // keys, what was gathered is written now.
    if (m_counts.size() >= maxCounts)
        flush();
    const QString key =
        app + QLatin1Char('\n') + executable + QLatin1Char('\n') + server + QLatin1Char('\n') + outcome;
    Count &c = m_counts[key];
    const qint64 now = m_clock.now();
    if (c.count == 0) {
        c.fields = Json{{"app", toStd(app)},
                        {"executable", toStd(executable)},
                        {"server", toStd(server)},
                        {"outcome", toStd(outcome)}};
        c.first = now;
    }
    ++c.count;
    c.last = now;
    if (!m_timer.isActive())
        m_timer.start();
}

void AuditLog::flush()
{
    m_timer.stop();
    const QHash<QString, Count> counts = std::exchange(m_counts, {});
    for (const Count &c : counts) {
        Json line = Json::object();
        line["time"] = isoTime(c.last);
        line["event"] = "token";
        line.update(c.fields);
        line["count"] = c.count;
        line["since"] = isoTime(c.first);
        append(line);
    }
}

void AuditLog::append(const Json &line)
{
    if (m_path.isEmpty())
        return;
    const QFileInfo info(m_path);
    if (!QDir().mkpath(info.absolutePath())) {
        qCWarning(lcStorage) << "audit log: cannot create" << info.absolutePath();
        return;
    }
    if (info.exists() && info.size() >= m_options.maxBytes)
        rotate();
    QFile file(m_path);
    // Created 0600 from the first byte (Qt 6.3+ applies the permissions at creation).
    if (!file.open(QIODevice::WriteOnly | QIODevice::Append, kOwnerFile)) {
        qCWarning(lcStorage).noquote() << "audit log: cannot write" << m_path << ":" << file.errorString();
        return;
    }
    QByteArray bytes = toBytes(line);
    bytes.append('\n');
    file.write(bytes);
}

void AuditLog::rotate()
{
    for (int i = m_options.keepFiles; i >= 1; --i) {
        const QString from = i == 1 ? m_path : m_path + QLatin1Char('.') + QString::number(i - 1);
        const QString to = m_path + QLatin1Char('.') + QString::number(i);
        QFile::remove(to);
        QFile::rename(from, to);
    }
    if (m_options.keepFiles <= 0)
        QFile::remove(m_path);
}

QList<Json> AuditLog::read(const QString &path, const std::function<bool(const Json &)> &keep, int keepFiles)
{
    QList<Json> out;
    for (int i = keepFiles; i >= 0; --i) {
        QFile file(i == 0 ? path : path + QLatin1Char('.') + QString::number(i));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        while (!file.atEnd()) {
            const QByteArray raw = file.readLine(64 * 1024).trimmed();
            if (raw.isEmpty())
                continue;
            Result<Json> parsed = parseJsonObject(raw, QStringLiteral("audit line"));
            if (parsed && keep(parsed.value()))
                out.append(std::move(parsed).value());
        }
    }
    return out;
}

} // namespace mcpauth

#include "moc_AuditLog.cpp"
