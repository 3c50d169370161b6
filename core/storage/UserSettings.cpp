#include "storage/UserSettings.h"

#include "common/Json.h"

#include <QFile>
#include <QStandardPaths>

namespace mcpauth {

QString UserSettings::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/mcp-auth-agent/settings.json");
}

UserSettings UserSettings::load(const QString &path)
{
    UserSettings s;
    QFile file(path);
    if (!file.exists())
        return s;
    if (!file.open(QIODevice::ReadOnly)) {
        s.warnings
            << QStringLiteral("%1: cannot be read (%2); using the defaults").arg(path, file.errorString());
        return s;
    }
    const Result<Json> parsed = parseJsonObject(file.read(1024 * 1024), QStringLiteral("settings"));
    if (!parsed) {
        s.warnings << QStringLiteral("%1: %2; using the defaults").arg(path, parsed.error().message);
        return s;
    }
    for (auto it = parsed->begin(); it != parsed->end(); ++it) {
        if (it.key() != "approvals") {
            s.warnings
                << QStringLiteral("%1: unknown key \"%2\" ignored").arg(path, fromStd(it.key()).left(64));
            continue;
        }
        if (!it->is_object()) {
            s.warnings << QStringLiteral("%1: \"approvals\" must be an object").arg(path);
            continue;
        }
        for (auto a = it->begin(); a != it->end(); ++a) {
            if (a.key() == "required" && a->is_boolean()) {
                s.approvalsRequired = a->get<bool>();
            } else if (a.key() == "timeoutSeconds" && a->is_number_integer() && a->get<qint64>() >= 5 &&
                       a->get<qint64>() <= 3600) {
                s.approvalTimeoutSeconds = int(a->get<qint64>());
            } else {
                s.warnings << QStringLiteral("%1: approvals.%2 ignored (unknown, or a bad value)")
                                  .arg(path, fromStd(a.key()).left(64));
            }
        }
    }
    return s;
}

} // namespace mcpauth
