#pragma once

#include "common/Result.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <functional>
#include <optional>

namespace mcpauth {

/// Where secrets (tokens, client secrets) live: the OS keychain in the product (platform's
/// KeychainSecretStore), memory in unit tests and when no keychain answers. Asynchronous because
/// keychains are (D-Bus, user prompts). Each callback runs exactly once, on the event loop,
/// unless `context` is destroyed first. A keychain that does not answer gives Error::keychain.
class SecretStore : public QObject
{
    Q_OBJECT
public:
    using ReadCallback = std::function<void(Result<std::optional<QByteArray>>)>; ///< nullopt: no such entry
    using StatusCallback = std::function<void(Status)>;

    using QObject::QObject;
    ~SecretStore() override = default;

    virtual void read(const QString &key, QObject *context, ReadCallback done) = 0;
    virtual void write(const QString &key, const QByteArray &secret, QObject *context,
                       StatusCallback done) = 0;
    /// Removing an entry that does not exist succeeds.
    virtual void remove(const QString &key, QObject *context, StatusCallback done) = 0;
    /// Human-readable backend name for `agent/status` ("Secret Service", "memory (not persisted)").
    virtual QString backendName() const = 0;
    /// False for stores that lose everything when the agent exits.
    virtual bool isPersistent() const = 0;

    /// Whether the store works right now: writes and deletes a throwaway entry under a random key.
    /// Used at agent start, for `agent/status`, and when an entry the state file says exists is
    /// missing (a keychain that went away or came back locked and empty). A store that does not
    /// answer within `timeoutMs` fails it with Error::keychain. `done` runs exactly once, unless
    /// `context` dies.
    void probe(QObject *context, StatusCallback done, int timeoutMs);
};

} // namespace mcpauth
