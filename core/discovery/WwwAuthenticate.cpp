#include "discovery/WwwAuthenticate.h"

#include "discovery/MetadataFields.h"

#include <optional>

namespace mcpauth {

namespace {

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|"
// / "~" / DIGIT / ALPHA
bool isTchar(QChar c)
{
    if (c.unicode() > 0x7f)
        return false;
    const char ch = char(c.unicode());
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return QByteArrayView("!#$%&'*+-.^_`|~").contains(ch);
}

// RFC 9110 §11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool isToken68Char(QChar c)
{
    if (c.unicode() > 0x7f)
        return false;
    const char ch = char(c.unicode());
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return QByteArrayView("-._~+/").contains(ch);
}

bool isWhitespace(QChar c)
{
    return c == QLatin1Char(' ') || c == QLatin1Char('\t');
}

/// A cursor over one header value. Every method either consumes input or reports failure
/// without moving, so callers can always make progress.
class Scanner
{
public:
    explicit Scanner(QString text) : m_s(std::move(text)) {}

    bool atEnd() const { return m_pos >= m_s.size(); }
    QChar peek(qsizetype ahead = 0) const
    {
        return m_pos + ahead < m_s.size() ? m_s.at(m_pos + ahead) : QChar();
    }
    qsizetype pos() const { return m_pos; }
    void reset(qsizetype pos) { m_pos = pos; }
    void advance() { ++m_pos; }

    void skipWhitespace()
    {
        while (!atEnd() && isWhitespace(peek()))
            ++m_pos;
    }
    void skipWhitespaceAndCommas()
    {
        while (!atEnd() && (isWhitespace(peek()) || peek() == QLatin1Char(',')))
            ++m_pos;
    }
    /// Skips to the next list separator (or the end): recovery after garbage.
    void skipToComma()
    {
        while (!atEnd() && peek() != QLatin1Char(','))
            ++m_pos;
    }

    QString token()
    {
        const qsizetype start = m_pos;
        while (!atEnd() && isTchar(peek()))
            ++m_pos;
        return m_s.mid(start, m_pos - start);
    }

    /// token68 including its trailing "=" padding; empty (and nothing consumed) when absent.
    QString token68()
    {
        const qsizetype start = m_pos;
        while (!atEnd() && isToken68Char(peek()))
            ++m_pos;
        if (m_pos == start)
            return {};
        while (!atEnd() && peek() == QLatin1Char('='))
            ++m_pos;
        return m_s.mid(start, m_pos - start);
    }

    /// RFC 9110 §5.6.4 quoted-string at the cursor, unescaped. nullopt for an unterminated string
    /// (the rest of the value is then consumed: nothing after it can be trusted).
    std::optional<QString> quotedString()
    {
        Q_ASSERT(peek() == QLatin1Char('"'));
        ++m_pos;
        QString out;
        while (!atEnd()) {
            const QChar c = m_s.at(m_pos++);
            if (c == QLatin1Char('"'))
                return out;
            if (c == QLatin1Char('\\')) {
                if (atEnd())
                    break;
                out += m_s.at(m_pos++);
                continue;
            }
            out += c;
        }
        return std::nullopt;
    }

    /// True when the cursor is at `token BWS "=" BWS value`, i.e. an auth-param rather than a new
    /// challenge or a token68 such as `abc==`. Does not move the cursor.
    bool atAuthParam()
    {
        const qsizetype start = m_pos;
        bool result = false;
        if (!token().isEmpty()) {
            skipWhitespace();
            if (peek() == QLatin1Char('=')) {
                ++m_pos;
                skipWhitespace();
                // "abc==" or "abc=" at the end of a challenge is token68 padding, not a parameter.
                result = !atEnd() && peek() != QLatin1Char('=') && peek() != QLatin1Char(',');
            }
        }
        m_pos = start;
        return result;
    }

private:
    QString m_s;
    qsizetype m_pos = 0;
};

/// Reads one auth-param at the cursor (atAuthParam() was true) into `params`; on garbage, skips to
/// the next comma. The first occurrence of a name wins (RFC 9110 §11.2: each name once).
void readAuthParam(Scanner &in, QMap<QString, QString> &params)
{
    const QString name = in.token().toLower();
    in.skipWhitespace();
    in.advance(); // '='
    in.skipWhitespace();
    std::optional<QString> value;
    if (in.peek() == QLatin1Char('"')) {
        value = in.quotedString(); // unterminated: dropped, a truncated URL must not be used
    } else {
        const QString token = in.token();
        if (!token.isEmpty())
            value = token;
    }
    in.skipWhitespace();
    if (!in.atEnd() && in.peek() != QLatin1Char(','))
        in.skipToComma(); // junk after the value: drop the rest of this element
    if (value && !params.contains(name))
        params.insert(name, *value);
}

void parseValue(const QString &text, QList<AuthChallenge> &out)
{
    Scanner in(text);
    // RFC 9110 §11.6.1: WWW-Authenticate = #challenge, where a challenge's own auth-params are
    // comma-separated too. After each comma, `name=` continues the current challenge and
    // anything else starts a new one.
    while (true) {
        in.skipWhitespaceAndCommas();
        if (in.atEnd())
            return;
        AuthChallenge challenge;
        challenge.scheme = in.token();
        if (challenge.scheme.isEmpty()) {
            in.skipToComma(); // not a scheme: skip this element
            continue;
        }
        if (!in.atEnd() && !isWhitespace(in.peek()) && in.peek() != QLatin1Char(',')) {
            in.skipToComma(); // e.g. `Bearer"x"`: no valid challenge here
            continue;
        }
        in.skipWhitespace();
        if (!in.atEnd() && in.peek() != QLatin1Char(',') && !in.atAuthParam()) {
            const qsizetype before = in.pos();
            challenge.token68 = in.token68();
            in.skipWhitespace();
            if (challenge.token68.isEmpty() || (!in.atEnd() && in.peek() != QLatin1Char(','))) {
                challenge.token68.clear();
                in.reset(before);
                in.skipToComma();
            }
            out << challenge;
            continue;
        }
        while (true) {
            in.skipWhitespaceAndCommas();
            if (in.atEnd() || !in.atAuthParam())
                break;
            readAuthParam(in, challenge.params);
        }
        out << challenge;
    }
}

} // namespace

QList<AuthChallenge> WwwAuthenticate::parse(const QList<QByteArray> &headerValues)
{
    QList<AuthChallenge> out;
    for (const QByteArray &value : headerValues)
        parseValue(QString::fromUtf8(value), out);
    return out;
}

BearerChallenge WwwAuthenticate::bearer(const QList<QByteArray> &headerValues)
{
    BearerChallenge bearer;
    const QList<AuthChallenge> challenges = parse(headerValues);
    for (const AuthChallenge &c : challenges) {
        if (c.scheme.compare(QLatin1String("Bearer"), Qt::CaseInsensitive) != 0)
            continue;
        bearer.present = true;
        // RFC 9728 §5.1: resource_metadata is the URL of the protected resource metadata. Only an
        // absolute http(s) URL is usable; the HTTPS rule itself is enforced when it is fetched.
        const QUrl url(c.params.value(QStringLiteral("resource_metadata")), QUrl::StrictMode);
        if (isHttpUrl(url))
            bearer.resourceMetadata = url;
        bearer.scope = c.params.value(QStringLiteral("scope"));
        bearer.error = c.params.value(QStringLiteral("error"));
        bearer.errorDescription = c.params.value(QStringLiteral("error_description"));
        break;
    }
    return bearer;
}

} // namespace mcpauth
