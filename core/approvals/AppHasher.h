#pragma once

#include "broker/PeerIdentity.h"
#include "common/Result.h"

#include <QHash>
#include <QObject>
#include <QPointer>

#include <functional>

namespace mcpauth {

/// SHA-256 of the binary an app runs, for grants keyed on "this program, unchanged" (design.md
/// "approvals"). An Electron app's binary is 150 MB or more, so hashing runs on a worker thread and
/// is done once per binary: results are cached by the file's fingerprint (device, inode, size,
/// mtime), and concurrent asks for one binary share one read. A cached answer comes back at once.
class AppHasher : public QObject
{
    Q_OBJECT
public:
    using Done = std::function<void(Result<QString>)>; ///< the hash in lowercase hex

    explicit AppHasher(QObject *parent = nullptr);
    ~AppHasher() override;

    /// Hashes `app`'s binary and calls `done` (at once when cached), unless `context` went first.
    void hash(const AppIdentity &app, QObject *context, Done done);
    /// The cached hash of a fingerprint, if any.
    QString cached(const QString &fingerprint) const { return m_cache.value(fingerprint); }

    static constexpr qint64 maxBytes = qint64(2) * 1024 * 1024 * 1024;
    static constexpr int maxCached = 256;

private:
    struct Waiter
    {
        QPointer<QObject> context;
        Done done;
        std::shared_ptr<ProcessHandle> process;
    };
    void finished(const QString &fingerprint, const QString &hex, const QString &error);

    QHash<QString, QString> m_cache;
    QHash<QString, QList<Waiter>> m_running;
};

} // namespace mcpauth
