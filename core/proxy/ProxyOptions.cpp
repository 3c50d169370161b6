#include "proxy/ProxyOptions.h"

#include "common/Log.h"

#include <QFile>
#include <QHostAddress>
#include <QRegularExpression>

namespace mcpauth {

namespace {

Error usageError(const QString &message)
{
    return Error::config(QStringLiteral("usage"), message);
}

// Options that take a value, as mcp-remote 0.15.1 spells them.
const QStringList &valueOptions()
{
    static const QStringList names = {
        QStringLiteral("--header"),
        QStringLiteral("--header-file"),
        QStringLiteral("--transport"),
        QStringLiteral("--static-oauth-client-info"),
        QStringLiteral("--static-oauth-client-metadata"),
        QStringLiteral("--client-metadata-url"),
        QStringLiteral("--resource"),
        QStringLiteral("--authorize-param"),
        QStringLiteral("--ignore-tool"),
        QStringLiteral("--auth-timeout"),
        QStringLiteral("--host"),
        QStringLiteral("--callback-path"),
        QStringLiteral("--auth-success-url"),
        QStringLiteral("--connect-timeout"),
        QStringLiteral("--body-timeout"),
        QStringLiteral("--headers-timeout"),
        QStringLiteral("--ping-interval"),
        QStringLiteral("--protocol"),
        QStringLiteral("--token-endpoint"),
    };
    return names;
}

// mcp-remote's substituteEnvVars(): ${NAME} from the environment; an unset variable is left as
// written, with a warning, exactly like mcp-remote 0.15.1 does.
QString expandEnv(const QString &value, const QString &context, const ProxyOptions::EnvLookup &env,
                  QStringList *warnings)
{
    static const QRegularExpression placeholder(QStringLiteral("\\$\\{([^}]+)\\}"));
    QString out;
    qsizetype last = 0;
    for (auto it = placeholder.globalMatch(value); it.hasNext();) {
        const QRegularExpressionMatch m = it.next();
        out += value.mid(last, m.capturedStart() - last);
        const std::optional<QString> v = env ? env(m.captured(1)) : std::nullopt;
        if (v) {
            out += *v;
        } else {
            warnings->append(QStringLiteral("environment variable %1 is not set (in %2); left as written")
                                 .arg(m.captured(1), context));
            out += m.captured(0);
        }
        last = m.capturedEnd();
    }
    return out + value.mid(last);
}

Result<QPair<QByteArray, QByteArray>> parseHeader(const QString &line, const ProxyOptions::EnvLookup &env,
                                                  QStringList *warnings)
{
    static const QRegularExpression form(QStringLiteral("^([A-Za-z0-9_-]+):\\s*(.*)$"),
                                         QRegularExpression::DotMatchesEverythingOption);
    const QRegularExpressionMatch m = form.match(line);
    if (!m.hasMatch())
        return usageError(QStringLiteral("--header wants \"Name: value\", got: %1").arg(line));
    const QString value = expandEnv(m.captured(2), QStringLiteral("header ") + m.captured(1), env, warnings);
    // A CR or LF would let a value smuggle in another header.
    if (value.contains(QLatin1Char('\r')) || value.contains(QLatin1Char('\n')))
        return usageError(QStringLiteral("--header %1: the value contains a line break").arg(m.captured(1)));
    return qMakePair(m.captured(1).toLatin1(), value.toUtf8());
}

Result<QString> readArgOrFile(const QString &arg, const QString &option)
{
    if (!arg.startsWith(QLatin1Char('@')))
        return arg;
    QFile file(arg.mid(1));
    if (!file.open(QIODevice::ReadOnly))
        return usageError(
            QStringLiteral("%1: cannot read %2: %3").arg(option, file.fileName(), file.errorString()));
    return QString::fromUtf8(file.readAll());
}

Result<Json> parseJsonOption(const QString &arg, const QString &option, bool expand,
                             const ProxyOptions::EnvLookup &env, QStringList *warnings)
{
    Result<QString> text = readArgOrFile(arg, option);
    if (!text)
        return text.error();
    const QString raw = expand ? expandEnv(text.value(), option, env, warnings) : text.value();
    Result<Json> json = parseJsonObject(raw.toUtf8(), option);
    if (!json)
        return usageError(
            QStringLiteral("%1 wants a JSON object or @file: %2").arg(option, json.error().message));
    return json;
}

bool isLoopbackHost(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

Result<QUrl> parseServerUrl(const QString &text, bool allowHttp)
{
    const QUrl url(text, QUrl::StrictMode);
    const QString scheme = url.scheme();
    if (!url.isValid() || url.host().isEmpty() ||
        (scheme != QLatin1String("https") && scheme != QLatin1String("http")))
        return usageError(QStringLiteral("not an http(s) URL: %1").arg(text));
    if (scheme == QLatin1String("http") && !allowHttp && !isLoopbackHost(url.host()))
        return usageError(QStringLiteral("%1 is not HTTPS: plain HTTP is only allowed to localhost, "
                                         "or with --allow-http on a network you trust")
                              .arg(text));
    return url;
}

const QStringList &reservedAuthorizeParams()
{
    // mcp-remote's RESERVED_AUTHORIZE_PARAMS: the flow derives these per request.
    static const QStringList names = {
        QStringLiteral("client_id"),      QStringLiteral("redirect_uri"),
        QStringLiteral("response_type"),  QStringLiteral("state"),
        QStringLiteral("code_challenge"), QStringLiteral("code_challenge_method"),
    };
    return names;
}

} // namespace

ProxyOptions::EnvLookup ProxyOptions::processEnvironment()
{
    return [](const QString &name) -> std::optional<QString> {
        const QByteArray key = name.toLocal8Bit();
        if (!qEnvironmentVariableIsSet(key.constData()))
            return std::nullopt;
        return qEnvironmentVariable(key.constData());
    };
}

Result<ProxyOptions> ProxyOptions::parse(const QStringList &args, const EnvLookup &env)
{
    ProxyOptions o;
    QStringList positional;
    QStringList headerLines;
    for (qsizetype i = 0; i < args.size(); ++i) {
        QString name = args.at(i);
        std::optional<QString> inlineValue;
        if (name.startsWith(QLatin1String("--")) && name.contains(QLatin1Char('='))) {
            inlineValue = name.section(QLatin1Char('='), 1);
            name = name.section(QLatin1Char('='), 0, 0);
        }
        if (!name.startsWith(QLatin1Char('-')) || name == QLatin1String("-")) {
            positional << name;
            continue;
        }
        if (name == QLatin1String("--help") || name == QLatin1String("-h")) {
            o.help = true;
            continue;
        }
        if (valueOptions().contains(name)) {
            QString value;
            if (inlineValue) {
                value = *inlineValue;
            } else if (i + 1 < args.size()) {
                value = args.at(++i);
            } else {
                return usageError(QStringLiteral("%1 needs a value").arg(name));
            }
            if (name == QLatin1String("--header")) {
                headerLines << value;
            } else if (name == QLatin1String("--header-file")) {
                QFile file(value);
                if (!file.open(QIODevice::ReadOnly))
                    return usageError(QStringLiteral("--header-file: cannot read %1").arg(value));
                const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
                for (const QString &line : lines) {
                    const QString t = line.trimmed();
                    if (!t.isEmpty() && !t.startsWith(QLatin1Char('#')))
                        headerLines << t;
                }
            } else if (name == QLatin1String("--transport")) {
                static const QStringList modes = {QStringLiteral("http-first"), QStringLiteral("sse-first"),
                                                  QStringLiteral("http-only"), QStringLiteral("sse-only")};
                const qsizetype mode = modes.indexOf(value);
                if (mode < 0)
                    return usageError(
                        QStringLiteral(
                            "--transport wants http-first, sse-first, http-only or sse-only, got: %1")
                            .arg(value));
                o.transport = TransportMode(mode);
            } else if (name == QLatin1String("--static-oauth-client-info")) {
                // mcp-remote expands ${VAR} here too, so secrets can stay in the environment.
                Result<Json> j = parseJsonOption(value, name, true, env, &o.warnings);
                if (!j)
                    return j.error();
                if (jsonString(j.value(), "client_id").isEmpty())
                    return usageError(QStringLiteral("--static-oauth-client-info needs a client_id"));
                o.clientInfo = j.value();
            } else if (name == QLatin1String("--static-oauth-client-metadata")) {
                Result<Json> j = parseJsonOption(value, name, false, env, &o.warnings);
                if (!j)
                    return j.error();
                o.clientMetadata = j.value();
            } else if (name == QLatin1String("--client-metadata-url")) {
                // A Client ID Metadata Document URL: HTTPS with a path (mcp-remote's isClientMetadataUrl).
                const QUrl u(value.trimmed(), QUrl::StrictMode);
                if (!u.isValid() || u.scheme() != QLatin1String("https") || u.host().isEmpty() ||
                    u.path().isEmpty() || u.path() == QLatin1String("/"))
                    return usageError(
                        QStringLiteral("--client-metadata-url wants an HTTPS URL with a path, got: %1")
                            .arg(value));
                o.clientMetadataUrl = u.toString();
            } else if (name == QLatin1String("--resource")) {
                const QString v = value.trimmed();
                if (v.isEmpty()) {
                    o.warnings << QStringLiteral("an empty --resource is ignored: the resource parameter "
                                                 "(RFC 8707) is always sent");
                    continue;
                }
                const QUrl u(v, QUrl::StrictMode);
                if (!u.isValid() || u.isRelative())
                    return usageError(QStringLiteral("--resource wants an absolute URI, got: %1").arg(value));
                o.resourceOverride = v;
            } else if (name == QLatin1String("--authorize-param")) {
                const qsizetype eq = value.indexOf(QLatin1Char('='));
                if (eq < 1)
                    return usageError(
                        QStringLiteral("--authorize-param wants key=value, got: %1").arg(value));
                const QString key = value.left(eq).trimmed();
                if (reservedAuthorizeParams().contains(key))
                    return usageError(
                        QStringLiteral("--authorize-param cannot set %1: the sign-in flow derives it")
                            .arg(key));
                if (key == QLatin1String("resource"))
                    o.warnings << QStringLiteral(
                        "--authorize-param resource=… only reaches the authorization "
                        "request; use --resource so the token request agrees");
                o.authorizeParams[toStd(key)] = toStd(value.mid(eq + 1));
            } else if (name == QLatin1String("--ignore-tool")) {
                o.ignoredTools << value;
            } else if (name == QLatin1String("--auth-timeout")) {
                bool ok = false;
                const int seconds = value.toInt(&ok);
                if (!ok || seconds <= 0)
                    return usageError(QStringLiteral("--auth-timeout wants a positive number of seconds"));
                o.authTimeoutSeconds = seconds;
            } else if (name == QLatin1String("--protocol")) {
                // mcp-remote 0.15.1 --protocol: which era to speak to the server.
                static const QStringList modes = {QStringLiteral("auto"), QStringLiteral("legacy"),
                                                  QStringLiteral("modern")};
                const qsizetype mode = modes.indexOf(value);
                if (mode < 0)
                    return usageError(
                        QStringLiteral("--protocol wants auto, legacy or modern, got: %1").arg(value));
                o.protocol = ProtocolMode(mode);
            } else if (name == QLatin1String("--token-endpoint")) {
                return usageError(QStringLiteral("--token-endpoint (client credentials) is not supported"));
            } else if (name == QLatin1String("--host") || name == QLatin1String("--callback-path") ||
                       name == QLatin1String("--auth-success-url")) {
                qCDebug(lcProxy) << name << "ignored: the agent owns the sign-in callback";
            } else {
                o.warnings << QStringLiteral("%1 is not needed by mcp-auth and is ignored").arg(name);
            }
            continue;
        }
        if (inlineValue)
            return usageError(QStringLiteral("%1 takes no value").arg(name));
        if (name == QLatin1String("--allow-http")) {
            o.allowHttp = true;
        } else if (name == QLatin1String("--debug")) {
            o.debug = true;
        } else if (name == QLatin1String("--silent")) {
            o.silent = true;
        } else if (name == QLatin1String("--enable-proxy")) {
            o.enableProxy = true;
        } else if (name == QLatin1String("--device-code") || name == QLatin1String("--client-credentials") ||
                   name == QLatin1String("--use-id-token")) {
            return usageError(
                QStringLiteral("%1 is not supported: mcp-auth signs in in the browser and sends "
                               "the access token")
                    .arg(name));
        } else if (name == QLatin1String("--keep-alive") || name == QLatin1String("--ipv4") ||
                   name == QLatin1String("--disable-cookies") ||
                   name == QLatin1String("--disable-resource-parameter")) {
            o.warnings << QStringLiteral("%1 is not needed by mcp-auth and is ignored").arg(name);
        } else {
            // Unknown: maybe a newer mcp-remote option. Ignore it; if a value follows, that too,
            // unless the value is where the server URL belongs.
            o.warnings << QStringLiteral("unknown option %1 ignored").arg(name);
            if (i + 1 < args.size() && !args.at(i + 1).startsWith(QLatin1Char('-')) &&
                !(positional.isEmpty() && args.at(i + 1).contains(QLatin1String("://"))))
                ++i;
        }
    }

    if (o.help)
        return o;
    if (positional.isEmpty())
        return usageError(QStringLiteral("expected the MCP server URL"));
    Result<QUrl> url = parseServerUrl(positional.first(), o.allowHttp);
    if (!url)
        return url.error();
    o.serverUrl = url.value();
    if (positional.size() > 1) {
        // mcp-remote's positional callback port: the agent owns the callback, so it is only checked.
        bool ok = false;
        const int port = positional.at(1).toInt(&ok);
        if (!ok || port < 1 || port > 65535)
            return usageError(QStringLiteral("unexpected argument: %1").arg(positional.at(1)));
        o.callbackPort = port;
        qCDebug(lcProxy) << "callback port" << port << "ignored: the agent owns the sign-in callback";
    }
    if (positional.size() > 2)
        return usageError(QStringLiteral("unexpected argument: %1").arg(positional.at(2)));
    for (const QString &line : std::as_const(headerLines)) {
        Result<QPair<QByteArray, QByteArray>> h = parseHeader(line, env, &o.warnings);
        if (!h)
            return h.error();
        o.headers << h.value();
    }
    return o;
}

bool ProxyOptions::hasServerConfig() const
{
    return !clientInfo.is_null() || !clientMetadata.is_null() || !clientMetadataUrl.isEmpty() ||
           !resourceOverride.isEmpty() || !authorizeParams.empty();
}

Json ProxyOptions::serverConfigureParams() const
{
    Json p = Json::object();
    p["resource"] = toStd(serverUrl.toString());
    if (!clientInfo.is_null())
        p["clientInfo"] = clientInfo;
    if (!clientMetadata.is_null())
        p["clientMetadata"] = clientMetadata;
    if (!clientMetadataUrl.isEmpty())
        p["clientMetadataUrl"] = toStd(clientMetadataUrl);
    if (!authorizeParams.empty())
        p["authorizeParams"] = authorizeParams;
    if (!resourceOverride.isEmpty())
        p["resourceOverride"] = toStd(resourceOverride);
    return p;
}

bool ProxyOptions::isToolIgnored(const QString &toolName) const
{
    // mcp-remote's patternToRegex(): `*` matches anything, everything else literally, whole name,
    // case-insensitive.
    for (const QString &glob : ignoredTools) {
        QStringList parts = glob.split(QLatin1Char('*'));
        for (QString &part : parts)
            part = QRegularExpression::escape(part);
        const QRegularExpression re(QRegularExpression::anchoredPattern(parts.join(QStringLiteral(".*"))),
                                    QRegularExpression::CaseInsensitiveOption |
                                        QRegularExpression::DotMatchesEverythingOption);
        if (re.match(toolName).hasMatch())
            return true;
    }
    return false;
}

} // namespace mcpauth
