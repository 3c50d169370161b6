#include "Cli.h"
#include "CliOutput.h"

#include "broker/SocketPath.h"
#include "common/Log.h"
#include "discovery/MetadataFields.h"
#include "proxy/McpProxy.h"
#include "proxy/ProxyOptions.h"
#include "proxy/StdioChannel.h"
#include "proxy/TransportFactory.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxyFactory>
#include <QTimer>
#include <QUrl>

#include <cstdio>

namespace mcpauth {

namespace {

QString describeExpiry(qint64 expiresAt)
{
    if (expiresAt <= 0)
        return QStringLiteral("no expiry given");
    const qint64 left = expiresAt - QDateTime::currentSecsSinceEpoch();
    if (left <= 0)
        return QStringLiteral("expired");
    if (left < 120)
        return QStringLiteral("expires in %1 s").arg(left);
    if (left < 7200)
        return QStringLiteral("expires in %1 min").arg(left / 60);
    return QStringLiteral("expires in %1 h").arg(left / 3600);
}

const char *kUsage = R"(Usage: mcp-auth <command> [options]

Commands:
  login URL [--scope S]                      sign in to an MCP server in the browser
  token URL [--min-valid SECONDS] [--header] print a valid access token (refreshing first if needed)
  status [--json]                            every known server: signed in or not, expiry, scope, issuer
  logout URL                                 revoke at the server and delete the tokens
  proxy URL [options]                        stdio MCP server that relays to URL with the token
                                             (mcp-remote compatible; see: mcp-auth proxy --help)
  shutdown                                   ask the running agent to exit
  approvals [--json]                         requests waiting for your approval
  approve ID [--always|--while-running]      let that app have the server's tokens (once by default)
  deny ID                                    refuse it
  grants [--json]                            apps you allowed, with their last use
  revoke-grant ID | --app PATH [--server URL] forget a grant
  audit [--since 2h] [--server URL] [--json] who got which server's tokens, sign-ins, approvals

Environment: MCP_AUTH_SOCK (agent socket), MCP_AUTH_BROWSER (program that opens the sign-in URL).
Exit codes: 0 ok, 1 failed, 2 usage, 3 sign-in required, 4 agent unavailable, 5 not approved.)";

const char *kProxyUsage = R"(Usage: mcp-auth proxy URL [callback-port] [options]

Speaks MCP over stdio to the host that started it and HTTP to URL, MCP 2025-11-25 or 2026-07-28 on
each side (bridging a 2025 host to a 2026 server), adding the agent's access token to every
request; signs in through the agent when the server asks.
Takes mcp-remote's options, so a host config only changes its command:

  --header "Name: value"              extra header on every request (repeatable, ${VAR} expanded)
  --header-file FILE                  headers from a file, one "Name: value" per line
  --transport MODE                    http-first (default), sse-first, http-only, sse-only
  --protocol auto|legacy|modern       server era: probe (default), 2025-11-25 only, 2026-07-28 only
  --static-oauth-client-info J|@F     pre-registered client: {"client_id", "client_secret"?, ...}
  --static-oauth-client-metadata J|@F fields merged into dynamic client registration
  --client-metadata-url URL           client ID metadata document (HTTPS URL used as client_id)
  --resource URL                      resource (RFC 8707) to request instead of URL
  --authorize-param k=v               extra authorization request parameter (repeatable)
  --allow-http                        allow plain HTTP to a non-loopback server (the proxy's own
                                      link; sign-in itself needs HTTPS off loopback)
  --ignore-tool GLOB                  hide tools matching GLOB (repeatable, * wildcard)
  --auth-timeout SECONDS              give up waiting for a sign-in after SECONDS
  --enable-proxy                      use the system HTTP(S) proxy settings
  --debug / --silent                  more / no diagnostics on stderr

The callback port, --host and --callback-path are accepted and ignored: the agent owns the callback.)";

} // namespace

Cli::Cli(QStringList arguments, const PeerIdentityProvider &identity, QObject *parent)
    : QObject(parent), m_args(std::move(arguments)), m_identity(identity)
{}

void Cli::run()
{
    m_command = m_args.value(1);
    if (m_command == QLatin1String("login"))
        return cmdLogin();
    if (m_command == QLatin1String("token"))
        return cmdToken();
    if (m_command == QLatin1String("status"))
        return cmdStatus();
    if (m_command == QLatin1String("logout"))
        return cmdLogout();
    if (m_command == QLatin1String("shutdown"))
        return cmdShutdown();
    if (m_command == QLatin1String("proxy"))
        return cmdProxy();
    if (m_command == QLatin1String("approvals"))
        return cmdApprovals();
    if (m_command == QLatin1String("approve") || m_command == QLatin1String("deny"))
        return cmdDecide(m_command == QLatin1String("deny"));
    if (m_command == QLatin1String("grants"))
        return cmdGrants();
    if (m_command == QLatin1String("revoke-grant"))
        return cmdRevokeGrant();
    if (m_command == QLatin1String("audit"))
        return cmdAudit();
    if (m_command == QLatin1String("--version") || m_command == QLatin1String("version")) {
        out(QStringLiteral("mcp-auth " MCPAUTH_VERSION));
        return finish(Ok);
    }
    if (m_command == QLatin1String("--help") || m_command == QLatin1String("-h") ||
        m_command == QLatin1String("help")) {
        out(QString::fromUtf8(kUsage));
        return finish(Ok);
    }
    usage(m_command.isEmpty() ? QStringLiteral("no command given")
                              : QStringLiteral("unknown command: ") + m_command);
}

void Cli::usage(const QString &problem)
{
    if (!problem.isEmpty())
        err(problem);
    std::fputs(kUsage, stderr);
    std::fputs("\n", stderr);
    finish(Usage);
}

void Cli::finish(int code)
{
    QTimer::singleShot(0, qApp, [code] { QCoreApplication::exit(code); });
}

void Cli::fail(const Error &error)
{
    err(error.message);
    if (error.category == Error::Category::LoginRequired)
        return finish(LoginRequired);
    if (error.code == QLatin1String("approval_denied") || error.code == QLatin1String("policy_denied"))
        return finish(NotApproved);
    // No agent of ours to talk to: none answers, or what answers (or its folder) is not ours.
    static const QStringList unavailable = {
        QStringLiteral("agent_unavailable"), QStringLiteral("agent_impostor"),
        QStringLiteral("socket_dir_unsafe"), QStringLiteral("no_private_dir")};
    if (unavailable.contains(error.code))
        return finish(AgentUnavailable);
    finish(Failure);
}

void Cli::withAgent(bool startIfMissing, std::function<void()> then)
{
    const Result<QString> path = SocketPath::defaultPath(m_identity.currentUid());
    if (!path)
        return fail(path.error());
    m_agent = new AgentClient(path.value(), m_identity, this);
    auto connected = [this, then](Status st) {
        if (!st)
            return fail(st.error());
        then();
    };
    if (startIfMissing) {
        const QString agent = QCoreApplication::applicationDirPath() + QStringLiteral("/mcp-auth-agent");
        m_agent->connectOrStart(agent, 10'000, connected);
    } else {
        m_agent->connectOnly(1'000, connected);
    }
}

// Parses `mcp-auth <command> URL [options]`; on failure reports usage and returns false.
static bool parseWithUrl(QCommandLineParser &parser, const QStringList &args, QString *url, QString *problem)
{
    parser.addPositionalArgument(QStringLiteral("URL"), QStringLiteral("MCP server URL"));
    QStringList rest = args;
    rest.removeAt(1); // the command
    if (!parser.parse(rest)) {
        *problem = parser.errorText();
        return false;
    }
    const QStringList pos = parser.positionalArguments();
    if (pos.size() != 1) {
        *problem = QStringLiteral("expected exactly one URL");
        return false;
    }
    *url = pos.first();
    const QUrl u(*url, QUrl::StrictMode);
    if (!isHttpUrl(u)) {
        *problem = QStringLiteral("not an http(s) URL: ") + *url;
        return false;
    }
    return true;
}

void Cli::cmdLogin()
{
    QCommandLineParser parser;
    const QCommandLineOption scope(QStringLiteral("scope"), QStringLiteral("scope to request"),
                                   QStringLiteral("S"));
    parser.addOption(scope);
    QString url, problem;
    if (!parseWithUrl(parser, m_args, &url, &problem))
        return usage(problem);
    Json params = Json::object();
    params["resource"] = toStd(url);
    if (parser.isSet(scope))
        params["scope"] = toStd(parser.value(scope));
    withAgent(true, [this, url, params] {
        err(QStringLiteral("signing in to %1; finish in your browser…").arg(url));
        m_agent->call(QStringLiteral("login/start"), params, [this, url](Result<Json> r) {
            if (!r)
                return fail(r.error());
            const QString scope = jsonString(r.value(), "scope");
            out(QStringLiteral("Signed in to %1 (%2%3)")
                    .arg(url, describeExpiry(jsonInt(r.value(), "expiresAt").value_or(0)),
                         scope.isEmpty() ? QString() : QStringLiteral(", scope: ") + scope));
            finish(Ok);
        });
    });
}

void Cli::cmdToken()
{
    QCommandLineParser parser;
    const QCommandLineOption minValid(QStringLiteral("min-valid"),
                                      QStringLiteral("seconds the token must stay valid"),
                                      QStringLiteral("SECONDS"));
    const QCommandLineOption header(QStringLiteral("header"),
                                    QStringLiteral("print an Authorization header"));
    const QCommandLineOption scope(QStringLiteral("scope"), QStringLiteral("scope the token must carry"),
                                   QStringLiteral("S"));
    parser.addOptions({minValid, header, scope});
    QString url, problem;
    if (!parseWithUrl(parser, m_args, &url, &problem))
        return usage(problem);
    Json params = Json::object();
    params["resource"] = toStd(url);
    if (parser.isSet(minValid)) {
        bool ok = false;
        const qint64 v = parser.value(minValid).toLongLong(&ok);
        if (!ok || v < 0)
            return usage(QStringLiteral("--min-valid takes a number of seconds"));
        params["minValidSeconds"] = v;
    }
    if (parser.isSet(scope))
        params["scope"] = toStd(parser.value(scope));
    const bool asHeader = parser.isSet(header);
    withAgent(true, [this, params, asHeader] {
        m_agent->call(QStringLiteral("token/get"), params, [this, asHeader](Result<Json> r) {
            if (!r)
                return fail(r.error());
            const QString token = jsonString(r.value(), "accessToken");
            if (token.isEmpty())
                return fail(Error::protocol(QStringLiteral("agent_protocol"),
                                            QStringLiteral("the agent sent no token")));
            out(asHeader ? QStringLiteral("Authorization: Bearer ") + token : token);
            finish(Ok);
        });
    });
}

void Cli::cmdStatus()
{
    QCommandLineParser parser;
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("machine-readable output"));
    parser.addOption(json);
    QStringList rest = m_args;
    rest.removeAt(1);
    if (!parser.parse(rest) || !parser.positionalArguments().isEmpty())
        return usage(parser.errorText().isEmpty() ? QStringLiteral("status takes no arguments")
                                                  : parser.errorText());
    const bool asJson = parser.isSet(json);
    withAgent(true, [this, asJson] {
        m_agent->call(QStringLiteral("agent/status"), Json(), [this, asJson](Result<Json> agent) {
            if (!agent)
                return fail(agent.error());
            m_agent->call(QStringLiteral("servers/list"), Json(), [this, asJson, agent](Result<Json> list) {
                if (!list)
                    return fail(list.error());
                const Json servers = list->value("servers", Json::array());
                if (asJson) {
                    Json all = Json::object();
                    all["agent"] = agent.value();
                    all["servers"] = servers;
                    out(QString::fromUtf8(toBytes(all)));
                    return finish(Ok);
                }
                const Json kc = agent->value("keychain", Json::object());
                out(QStringLiteral("agent %1 (pid %2), secrets: %3%4")
                        .arg(jsonString(agent.value(), "version"))
                        .arg(jsonInt(agent.value(), "pid").value_or(0))
                        .arg(jsonString(kc, "backend"),
                             jsonBool(kc, "available").value_or(false)
                                 ? QString()
                                 : QStringLiteral(" — keychain unavailable: ") + jsonString(kc, "detail")));
                if (servers.empty())
                    out(QStringLiteral("no servers yet; sign in with: mcp-auth login URL"));
                for (const Json &s : servers) {
                    QString state = jsonString(s, "state");
                    QString line = QStringLiteral("%1  %2").arg(
                        jsonString(s, "resource"), state.replace(QLatin1Char('_'), QLatin1Char(' ')));
                    if (state == QLatin1String("signed in") || state == QLatin1String("expired"))
                        line += QStringLiteral(", ") + describeExpiry(jsonInt(s, "expiresAt").value_or(0));
                    if (!jsonString(s, "scope").isEmpty())
                        line += QStringLiteral(", scope: ") + jsonString(s, "scope");
                    if (!jsonString(s, "issuer").isEmpty())
                        line += QStringLiteral(", issuer: ") + jsonString(s, "issuer");
                    if (!jsonString(s, "lastError").isEmpty())
                        line +=
                            QStringLiteral(" (last error: ") + jsonString(s, "lastError") + QLatin1Char(')');
                    out(line);
                }
                finish(Ok);
            });
        });
    });
}

void Cli::cmdLogout()
{
    QCommandLineParser parser;
    QString url, problem;
    if (!parseWithUrl(parser, m_args, &url, &problem))
        return usage(problem);
    withAgent(true, [this, url] {
        m_agent->call(QStringLiteral("logout"), Json{{"resource", toStd(url)}}, [this, url](Result<Json> r) {
            if (!r)
                return fail(r.error());
            const bool revoked = jsonBool(r.value(), "revoked").value_or(false);
            out(revoked ? QStringLiteral("Signed out of %1 (revoked at the server)").arg(url)
                        : QStringLiteral("Signed out of %1 (tokens deleted; nothing revoked at the server)")
                              .arg(url));
            finish(Ok);
        });
    });
}

void Cli::cmdShutdown()
{
    withAgent(false, [this] {
        m_agent->call(QStringLiteral("agent/shutdown"), Json(), [this](Result<Json> r) {
            if (!r)
                return fail(r.error());
            finish(Ok);
        });
    });
}

void Cli::cmdProxy()
{
    Result<ProxyOptions> parsed = ProxyOptions::parse(m_args.mid(2), ProxyOptions::processEnvironment());
    if (!parsed) {
        err(parsed.error().message);
        std::fputs(kProxyUsage, stderr);
        std::fputs("\n", stderr);
        return finish(Usage);
    }
    const ProxyOptions options = parsed.value();
    if (options.help) {
        std::fputs(kProxyUsage, stderr); // stdout belongs to MCP
        std::fputs("\n", stderr);
        return finish(Ok);
    }
    // stdout is the MCP channel: diagnostics go to stderr only, and by default only warnings.
    // QT_LOGGING_RULES still overrides this.
    if (options.debug)
        QLoggingCategory::setFilterRules(QStringLiteral("mcpauth.*=true"));
    else if (options.silent)
        QLoggingCategory::setFilterRules(QStringLiteral("mcpauth.*=false"));
    else
        QLoggingCategory::setFilterRules(QStringLiteral("mcpauth.*.debug=false\nmcpauth.*.info=false"));
    if (!options.silent)
        for (const QString &warning : options.warnings)
            err(warning);
    if (options.enableProxy)
        QNetworkProxyFactory::setUseSystemConfiguration(true);

    withAgent(true, [this, options] {
        auto *nam = new QNetworkAccessManager(this);
        auto *channel = new StdioChannel(stdin, stdout, this);
        const QUrl url = options.serverUrl;
        const auto headers = options.headers;
        auto *proxy = new McpProxy(
            m_agent, options,
            [nam, url, headers](TransportKind kind) { return createTransport(kind, nam, url, headers); },
            this);
        proxy->setEraCache(EraCache(EraCache::defaultPath()));
        connect(channel, &StdioChannel::messageReceived, proxy, &McpProxy::fromHost);
        connect(channel, &StdioChannel::hostClosed, proxy, &McpProxy::hostClosed);
        connect(proxy, &McpProxy::toHost, channel, &StdioChannel::write);
        connect(proxy, &McpProxy::finished, this, [this](int code) { finish(code); });
        connect(m_agent, &AgentClient::disconnected, this,
                [] { qCWarning(lcProxy) << "lost the connection to the agent; sign-ins will fail"; });
        proxy->start();
        channel->start();
    });
}

} // namespace mcpauth
