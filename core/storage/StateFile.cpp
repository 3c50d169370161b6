#include "storage/StateFile.h"

#include "common/Log.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

namespace mcpauth {

namespace {

constexpr QFile::Permissions kOwnerFile = QFile::ReadOwner | QFile::WriteOwner;
constexpr QFile::Permissions kOwnerDir = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner;

/// Create `dir` (and missing parents) so that the directory we create for ourselves is 0700.
/// Parents that already exist are left as they are: they belong to the user's setup.
bool makePrivateDir(const QString &dir)
{
    const QFileInfo info(dir);
    if (info.isDir())
        return true;
    const QString parent = info.absolutePath();
    if (!QDir().mkpath(parent))
        return false;
    // Qt 6.3+: mkdir with permissions applies them at creation, so the directory is never wider.
    return QDir().mkdir(info.absoluteFilePath(), kOwnerDir) || QFileInfo(dir).isDir();
}

} // namespace

StateFile::StateFile(QString path) : m_path(std::move(path)) {}

QString StateFile::defaultPath()
{
    // GenericDataLocation ($XDG_DATA_HOME, ~/.local/share) rather than AppDataLocation so the path
    // does not depend on QCoreApplication's organisation/application names: the agent and tools
    // that inspect its state must agree on it.
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/mcp-auth-agent/state.json");
}

Error StateFile::moveAside(const QString &why) const
{
    const QString stamp = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd'T'HHmmsszzz'Z'"));
    QString target = m_path + QStringLiteral(".corrupt-") + stamp;
    for (int i = 1; QFileInfo::exists(target); ++i)
        target = m_path + QStringLiteral(".corrupt-") + stamp + QLatin1Char('-') + QString::number(i);
    if (!QFile::rename(m_path, target)) {
        qCWarning(lcStorage) << "state file" << m_path << why << "and could not be moved aside";
        return Error::config(
            QStringLiteral("state_corrupt"),
            QStringLiteral("state file %1 %2, and it could not be moved aside; fix or remove it")
                .arg(m_path, why));
    }
    qCWarning(lcStorage) << "state file" << m_path << why << "; kept as" << target;
    return Error::config(
        QStringLiteral("state_corrupt"),
        QStringLiteral("state file %1 %2; it was kept as %3 and the agent starts with empty state")
            .arg(m_path, why, target));
}

Result<Json> StateFile::load() const
{
    QFile file(m_path);
    if (!file.exists()) {
        m_document = Json::object();
        return Json::object();
    }
    if (!file.open(QIODevice::ReadOnly))
        return moveAside(QStringLiteral("cannot be read (%1)").arg(file.errorString()));
    if (file.size() > maxBytes)
        return moveAside(QStringLiteral("is larger than %1 bytes").arg(maxBytes));
    const QByteArray bytes = file.read(maxBytes + 1);
    file.close();
    auto parsed = parseJsonObject(bytes, QStringLiteral("state file"));
    if (!parsed)
        return moveAside(QStringLiteral("is not a JSON object"));
    m_document = parsed.value();
    return std::move(parsed).value();
}

Json StateFile::document()
{
    if (m_document)
        return *m_document;
    Result<Json> loaded = load();
    return loaded ? std::move(loaded).value() : Json::object();
}

Status StateFile::update(const std::function<void(Json &document)> &change)
{
    Json doc = document();
    change(doc);
    return save(doc);
}

Status StateFile::save(const Json &state) const
{
    if (!state.is_object())
        return Error::internal(QStringLiteral("state to save is not a JSON object"));
    const QString dir = QFileInfo(m_path).absolutePath();
    if (!makePrivateDir(dir))
        return Error::config(QStringLiteral("state_unwritable"),
                             QStringLiteral("cannot create the state directory %1").arg(dir));

    // QSaveFile writes a temporary file next to the target and renames it over the target on
    // commit(): readers see the old or the new state, never a partial write (design.md "Storage").
    QSaveFile file(m_path);
    if (!file.open(QIODevice::WriteOnly))
        return Error::config(QStringLiteral("state_unwritable"),
                             QStringLiteral("cannot write %1: %2").arg(m_path, file.errorString()));
    // Narrow the temporary file before any byte lands in it, so the state is never readable by others.
    if (!file.setPermissions(kOwnerFile)) {
        file.cancelWriting();
        return Error::config(QStringLiteral("state_unwritable"),
                             QStringLiteral("cannot restrict permissions of %1").arg(m_path));
    }
    QByteArray bytes = QByteArray::fromStdString(state.dump(2, ' ', false, Json::error_handler_t::replace));
    bytes.append('\n');
    if (file.write(bytes) != bytes.size() || !file.commit())
        return Error::config(QStringLiteral("state_unwritable"),
                             QStringLiteral("cannot write %1: %2").arg(m_path, file.errorString()));
    m_document = state;
    return okStatus();
}

} // namespace mcpauth
