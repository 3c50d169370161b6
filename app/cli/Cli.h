#pragma once

#include "broker/AgentClient.h"

#include <QCommandLineParser>
#include <QObject>
#include <QStringList>

namespace mcpauth {

/// The `mcp-auth` command line: parses one command, talks to the agent (starting it when none
/// answers), prints the result and quits the event loop with the exit code.
///
/// Exit codes: 0 success, 1 failure, 2 usage, 3 sign-in required, 4 agent unavailable, 5 not approved
/// (the user or IT policy did not allow this app).
class Cli : public QObject
{
    Q_OBJECT
public:
    enum ExitCode {
        Ok = 0,
        Failure = 1,
        Usage = 2,
        LoginRequired = 3,
        AgentUnavailable = 4,
        NotApproved = 5
    };

    /// `identity` checks who serves the agent socket; it must outlive the Cli.
    Cli(QStringList arguments, const PeerIdentityProvider &identity, QObject *parent = nullptr);
    /// Starts the command; the application quits with its exit code when it ends.
    void run();

private:
    void withAgent(bool startIfMissing, std::function<void()> then);
    void finish(int code);
    void fail(const Error &error);
    void usage(const QString &problem = QString());

    void cmdLogin();
    void cmdToken();
    void cmdStatus();
    void cmdLogout();
    void cmdShutdown();
    void cmdProxy();
    // CliApprovals.cpp
    void cmdApprovals();
    void cmdDecide(bool deny);
    void cmdGrants();
    void cmdRevokeGrant();
    // CliAudit.cpp
    void cmdAudit();
    /// Parses the arguments after the command with `parser`; false (and usage) when they are wrong.
    bool parseRest(QCommandLineParser &parser, int positionals, const QString &what);

    QStringList m_args;
    const PeerIdentityProvider &m_identity;
    QString m_command;
    AgentClient *m_agent = nullptr;
};

} // namespace mcpauth
