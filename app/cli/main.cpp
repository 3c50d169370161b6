#include "Cli.h"

#include <QCoreApplication>
#include <QTimer>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mcp-auth"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MCPAUTH_VERSION));
    mcpauth::Cli cli(QCoreApplication::arguments());
    QTimer::singleShot(0, &cli, &mcpauth::Cli::run);
    return QCoreApplication::exec();
}
