#include "BrowserLauncher.h"

#include "common/Log.h"
#include "common/Redact.h"

#include <QDesktopServices>
#include <QGuiApplication>
#include <QProcess>

namespace mcpauth {

Status BrowserLauncher::open(const QUrl &url)
{
    // Only web URLs: a file:, javascript: or custom-scheme URL from a server's metadata could make
    // the desktop run something else than a browser.
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https")) ||
        url.host().isEmpty())
        return Error::security(QStringLiteral("browser_url_refused"),
                               QStringLiteral("refusing to open a non-web URL in the browser (scheme \"%1\")")
                                   .arg(url.scheme()));

    // The authorization URL carries state and a PKCE challenge: logs get the redacted form only.
    const QString custom = qEnvironmentVariable("MCP_AUTH_BROWSER");
    if (!custom.isEmpty()) {
        QStringList command = QProcess::splitCommand(custom);
        if (command.isEmpty())
            return Error::config(QStringLiteral("browser_failed"),
                                 QStringLiteral("MCP_AUTH_BROWSER is empty"));
        const QString program = command.takeFirst();
        qCInfo(lcPlatform) << "opening" << redactUrl(url) << "with MCP_AUTH_BROWSER" << program;
        return startDetached(program, std::move(command), url);
    }
    if (qobject_cast<QGuiApplication *>(QCoreApplication::instance())) {
        qCInfo(lcPlatform) << "opening" << redactUrl(url) << "in the desktop browser";
        if (!QDesktopServices::openUrl(url))
            return Error::config(QStringLiteral("browser_failed"),
                                 QStringLiteral("the desktop could not open a browser"));
        return okStatus();
    }
    // Headless agent (no QGuiApplication): QDesktopServices needs one, xdg-open does not.
    qCInfo(lcPlatform) << "opening" << redactUrl(url) << "with xdg-open";
    return startDetached(QStringLiteral("xdg-open"), {}, url);
}

Status BrowserLauncher::startDetached(const QString &program, QStringList arguments, const QUrl &url)
{
    // A program and its arguments, never a shell: nothing in the URL can be interpreted as a command.
    arguments << url.toString(QUrl::FullyEncoded);
    if (!QProcess::startDetached(program, arguments))
        return Error::config(QStringLiteral("browser_failed"),
                             QStringLiteral("could not start %1").arg(program));
    return okStatus();
}

} // namespace mcpauth
