#include "engine/ClientDirectory.h"

#include "common/Log.h"
#include "engine/ClientSelector.h"
#include "storage/SecretStore.h"

#include <QPointer>
#include <QTimer>

namespace mcpauth {

namespace {
const char *const kRegistrations = "registrations";
const char *const kServerConfig = "serverConfig";
} // namespace

ClientDirectory::ClientDirectory(SecretStore &secrets, QObject *parent) : QObject(parent), m_secrets(secrets)
{}

void ClientDirectory::load(const Json &state, QObject *context, StatusCallback done)
{
    struct Pending
    {
        QString key;
        std::function<void(const QString &)> apply;
    };
    QList<Pending> pending;
    const Json configs = state.value(kServerConfig, Json::object());
    for (auto it = configs.begin(); configs.is_object() && it != configs.end(); ++it) {
        const QString resource = fromStd(it.key());
        Result<ServerConfig> config = ServerConfig::fromJson(it.value());
        if (!config) {
            qCWarning(lcEngine) << "ignoring the stored configuration of" << resource << ":"
                                << config.error().message;
            continue;
        }
        m_configs.insert(resource, config.value());
        if (config->staticClient && jsonBool(it.value(), "hasSecret").value_or(false))
            pending.append({staticSecretKey(resource), [this, resource](const QString &secret) {
                                m_configs[resource].staticClient->clientSecret = secret;
                            }});
    }
    const Json registrations = state.value(kRegistrations, Json::object());
    for (auto it = registrations.begin(); registrations.is_object() && it != registrations.end(); ++it) {
        auto reg = ClientRegistration::fromJson(it.value());
        if (!reg)
            continue;
        const QString issuer = reg->issuer;
        m_registered.insert(issuer, reg.value());
        if (jsonBool(it.value(), "hasSecret").value_or(false))
            pending.append({clientSecretKey(issuer), [this, issuer](const QString &secret) {
                                m_registered[issuer].clientSecret = secret;
                            }});
    }
    if (pending.isEmpty()) {
        QTimer::singleShot(0, context, [done] { done(okStatus()); });
        return;
    }
    auto remaining = std::make_shared<int>(int(pending.size()));
    for (const Pending &p : std::as_const(pending)) {
        m_secrets.read(
            p.key, this,
            [p, remaining, context = QPointer<QObject>(context), done](Result<std::optional<QByteArray>> r) {
                if (r && r.value())
                    p.apply(QString::fromUtf8(*r.value()));
                else if (!r)
                    qCWarning(lcEngine) << "client secret unavailable:" << r.error().message;
                if (--*remaining == 0 && context)
                    done(okStatus());
            });
    }
}

void ClientDirectory::saveInto(Json &state) const
{
    Json registrations = Json::object();
    for (const ClientRegistration &client : m_registered) {
        Json reg = client.toJson();
        reg["hasSecret"] = !client.clientSecret.isEmpty();
        registrations[toStd(client.issuer)] = reg;
    }
    Json configs = Json::object();
    for (auto it = m_configs.constBegin(); it != m_configs.constEnd(); ++it)
        configs[toStd(it.key())] = it->toJson();
    state[kRegistrations] = registrations;
    state[kServerConfig] = configs;
}

Result<std::optional<ClientRegistration>> ClientDirectory::select(const QString &resource,
                                                                  const DiscoveryResult &d) const
{
    ClientSelector::Inputs in;
    if (auto it = m_preRegistered.constFind(d.issuer); it != m_preRegistered.constEnd())
        in.policyClient = *it;
    in.config = config(resource);
    if (auto it = m_registered.constFind(d.issuer); it != m_registered.constEnd())
        in.stored = *it;
    return ClientSelector::select(d, in);
}

const ServerConfig *ClientDirectory::config(const QString &resource) const
{
    const auto it = m_configs.constFind(resource);
    return it == m_configs.constEnd() ? nullptr : &*it;
}

void ClientDirectory::configure(const QString &resource, const ServerConfig &config, QObject *context,
                                StatusCallback done)
{
    // Bounded like everything a socket client can grow (style.md): a configuration per server.
    if (!m_configs.contains(resource) && !config.isEmpty() && m_configs.size() >= kMaxConfigs) {
        QTimer::singleShot(0, context, [done] {
            done(Error::config(
                QStringLiteral("too_many_servers"),
                QStringLiteral("%1 servers are configured already; remove one first").arg(kMaxConfigs)));
        });
        return;
    }
    auto commit = [this, resource, config, done](Status st) {
        if (!st) {
            done(st.error().withContext(QStringLiteral("storing the client secret")));
            return;
        }
        if (config.isEmpty())
            m_configs.remove(resource);
        else
            m_configs.insert(resource, config);
        qCInfo(lcEngine) << "configuration of" << resource << "replaced";
        done(okStatus());
    };
    const QString secret = config.staticClient ? config.staticClient->clientSecret : QString();
    if (!secret.isEmpty())
        m_secrets.write(staticSecretKey(resource), secret.toUtf8(), context, commit);
    else
        m_secrets.remove(staticSecretKey(resource), context, commit);
}

void ClientDirectory::remember(const ClientRegistration &client)
{
    m_registered.insert(client.issuer, client);
    if (client.clientSecret.isEmpty())
        return;
    m_secrets.write(clientSecretKey(client.issuer), client.clientSecret.toUtf8(), this, [](Status st) {
        if (!st)
            qCWarning(lcStorage) << "could not store the client secret:" << st.error().message;
    });
}

bool ClientDirectory::forget(const QString &issuer)
{
    if (!m_registered.remove(issuer))
        return false;
    m_secrets.remove(clientSecretKey(issuer), this, [](Status) {});
    return true;
}

void ClientDirectory::addPreRegistered(const ClientRegistration &client)
{
    m_preRegistered.insert(client.issuer, client);
}

QString ClientDirectory::clientSecretKey(const QString &issuer)
{
    return QStringLiteral("client-secret|%1").arg(issuer);
}

QString ClientDirectory::staticSecretKey(const QString &resource)
{
    return QStringLiteral("static-client-secret|%1").arg(resource);
}

} // namespace mcpauth

#include "moc_ClientDirectory.cpp"
