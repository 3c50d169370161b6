#pragma once

#include <QDateTime>

namespace mcpauth {

/// Wall-clock time, injected so expiry and refresh decisions can be tested without sleeping.
class Clock
{
public:
    virtual ~Clock() = default;
    /// Seconds since the Unix epoch.
    virtual qint64 now() const = 0;
};

/// The real clock.
class SystemClock final : public Clock
{
public:
    qint64 now() const override { return QDateTime::currentSecsSinceEpoch(); }
};

/// A clock tests move by hand.
class ManualClock final : public Clock
{
public:
    explicit ManualClock(qint64 start = 1'700'000'000) : m_now(start) {}
    qint64 now() const override { return m_now; }
    void advance(qint64 seconds) { m_now += seconds; }
    void set(qint64 t) { m_now = t; }

private:
    qint64 m_now;
};

} // namespace mcpauth
