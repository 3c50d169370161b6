#pragma once

#include <QString>

namespace mcpauth {

/// An advisory lock that the kernel releases when the process dies (flock on Unix), so a crashed
/// agent never blocks the next one and two agents can never serve the same socket.
class InstanceLock
{
public:
    explicit InstanceLock(QString path);
    ~InstanceLock();
    InstanceLock(const InstanceLock &) = delete;
    InstanceLock &operator=(const InstanceLock &) = delete;

    /// True when this process now holds the lock; false when another process holds it.
    bool tryLock();

private:
    QString m_path;
    int m_fd = -1;
};

} // namespace mcpauth
