#pragma once

#include "common/Json.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>

namespace mcpauth {

class Clock;

/// Who got what, afterwards (issue 8.4): one JSON line per event in
/// `$XDG_STATE_HOME/mcp-auth-agent/audit.log` (0600; rotated by size to audit.log.1 … .N). Events:
/// `token` (hand-outs, counted per app, server and outcome and written once a minute, so the hot
/// path costs a hash increment and no disk), `signin`, `refresh`, `signout`, `approval.asked`,
/// `approval.decided`, `grant.revoked`. Each has `time` (ISO 8601 UTC), `event`, and what applies of
/// `app`, `executable`, `sha256`, `server`, `issuer`, `scopes`, `outcome`, `reason`, `count`.
/// Never a token, a code or a secret: callers pass names, URLs and outcomes only.
class AuditLog : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        qint64 maxBytes = 1024 * 1024; ///< per file before it rotates
        int keepFiles = 3;             ///< rotated files kept besides the current one
        int flushMs = 60'000;          ///< how long hand-out counts gather before they are written
    };

    /// An empty path records nothing.
    AuditLog(QString path, const Clock &clock, Options options, QObject *parent = nullptr);
    ~AuditLog() override;

    /// Writes `event` (with `time` and `event` added) now.
    void record(const QString &event, Json fields);
    /// Counts one token hand-out (or refusal); written with the others of its minute.
    void countToken(const QString &app, const QString &executable, const QString &server,
                    const QString &outcome);
    /// Writes the counts gathered so far.
    void flush();

    const QString &path() const { return m_path; }
    /// Distinct app/server/outcome counts held before they are written early.
    static constexpr qsizetype maxCounts = 256;
    static QString defaultPath();
    /// The lines of `path` and its rotated files, oldest first, that pass `keep` (bad lines skipped).
    static QList<Json> read(const QString &path, const std::function<bool(const Json &)> &keep,
                            int keepFiles = 3);

private:
    struct Count
    {
        Json fields;
        qint64 count = 0;
        qint64 first = 0;
        qint64 last = 0;
    };
    void append(const Json &line);
    void rotate();

    QString m_path;
    const Clock &m_clock;
    Options m_options;
    QHash<QString, Count> m_counts;
    QTimer m_timer;
};

} // namespace mcpauth
