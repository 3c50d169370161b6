#pragma once

#include <QObject>

namespace mcpauth {

/// Turns SIGTERM, SIGINT and SIGHUP into a Qt signal so the agent can close its socket and
/// flush state on the event loop instead of dying mid-write (self-pipe + QSocketNotifier).
class TerminationSignals : public QObject
{
    Q_OBJECT
public:
    explicit TerminationSignals(QObject *parent = nullptr);
    ~TerminationSignals() override;

Q_SIGNALS:
    /// Fires on the event loop each time a termination signal arrives.
    void terminationRequested(int signal);
};

} // namespace mcpauth
