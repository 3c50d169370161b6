#include "AgentRuntime.h"
#include "broker/SocketPath.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTimer>

#include <cstring>
#include <memory>

int main(int argc, char **argv)
{
    // Headless when asked, or when there is no display to put a tray on.
    bool headless = qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
    for (int i = 1; i < argc; ++i)
        headless = headless || std::strcmp(argv[i], "--headless") == 0;
    std::unique_ptr<QCoreApplication> app = headless ? std::make_unique<QCoreApplication>(argc, argv)
                                                     : std::make_unique<QApplication>(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mcp-auth-agent"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MCPAUTH_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Signs in to OAuth-protected MCP servers once and hands "
                                                    "fresh tokens to local MCP hosts."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption headlessOpt(QStringLiteral("headless"),
                                         QStringLiteral("run without a tray icon"));
    const QCommandLineOption socketOpt(QStringLiteral("socket"), QStringLiteral("local socket path"),
                                       QStringLiteral("PATH"));
    parser.addOptions({headlessOpt, socketOpt});
    parser.process(*app);

    const QString socketPath =
        parser.isSet(socketOpt) ? parser.value(socketOpt) : mcpauth::SocketPath::defaultPath();
    mcpauth::AgentRuntime runtime(socketPath);
    QTimer::singleShot(0, &runtime, &mcpauth::AgentRuntime::start);
    return QCoreApplication::exec();
}
