#include "Cli.h"
#include "PlatformPeerIdentity.h"
#include "ProcessHardening.h"

#include <QCoreApplication>
#include <QTimer>

int main(int argc, char **argv)
{
    // First, before any secret exists in this process: no core dumps, no ptrace by peers.
    mcpauth::hardenProcess();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mcp-auth"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MCPAUTH_VERSION));
    const auto identity = mcpauth::createPeerIdentityProvider();
    mcpauth::Cli cli(QCoreApplication::arguments(), *identity);
    QTimer::singleShot(0, &cli, &mcpauth::Cli::run);
    return QCoreApplication::exec();
}
