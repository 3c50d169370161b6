#include "AgentRuntime.h"
#include "PlatformPeerIdentity.h"
#include "ProcessHardening.h"
#include "TrayController.h"
#include "broker/SocketPath.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <memory>

int main(int argc, char **argv)
{
    // First, before any secret exists in this process: no core dumps, no ptrace by peers.
    mcpauth::hardenProcess();
    // A socket and up to two process handles per connection (BrokerServer's limit is 256).
    mcpauth::raiseOpenFileLimit(4096);
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

    QString socketPath = parser.value(socketOpt);
    if (!parser.isSet(socketOpt)) {
        const auto path =
            mcpauth::SocketPath::defaultPath(mcpauth::createPeerIdentityProvider()->currentUid());
        if (!path) {
            std::fprintf(stderr, "mcp-auth-agent: %s\n", qPrintable(path.error().message));
            return 1;
        }
        socketPath = path.value();
    }
    mcpauth::AgentRuntime runtime(socketPath);
    std::unique_ptr<mcpauth::TrayController> tray;
    if (!headless) {
        QApplication::setQuitOnLastWindowClosed(false); // closing a dialog leaves the agent running
        QObject::connect(&runtime, &mcpauth::AgentRuntime::ready, &runtime, [&] {
            tray = std::make_unique<mcpauth::TrayController>(*runtime.engine(), *runtime.approvals());
            QObject::connect(tray.get(), &mcpauth::TrayController::quitRequested, &runtime,
                             [&runtime] { runtime.stop(0); });
            tray->start();
        });
    }
    QTimer::singleShot(0, &runtime, &mcpauth::AgentRuntime::start);
    const int code = QCoreApplication::exec();
    tray.reset(); // its widgets go before the engine they show
    return code;
}
