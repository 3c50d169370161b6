#include "tokens/FormBody.h"

#include <QStringList>

namespace mcpauth {

FormBody &FormBody::add(const QString &name, const QString &value)
{
    m_fields.append({name, value});
    return *this;
}

FormBody &FormBody::addIfNotEmpty(const QString &name, const QString &value)
{
    if (!value.isEmpty())
        add(name, value);
    return *this;
}

QByteArray FormBody::encode(const QString &value)
{
    // RFC 6749 Appendix B (HTML form encoding): unreserved are ALPHA / DIGIT / "*" / "-" / "." / "_";
    // space becomes "+"; "~" is percent-encoded, unlike in RFC 3986. Space is excluded from
    // percent-encoding first so it can be turned into "+" unambiguously ("+" itself becomes %2B).
    QByteArray out = value.toUtf8().toPercentEncoding(QByteArrayLiteral(" *"), QByteArrayLiteral("~"));
    out.replace(' ', '+');
    return out;
}

QByteArray FormBody::toBytes() const
{
    QByteArray out;
    for (const auto &[name, value] : m_fields) {
        if (!out.isEmpty())
            out += '&';
        out += encode(name) + '=' + encode(value);
    }
    return out;
}

QStringList FormBody::names() const
{
    QStringList out;
    for (const auto &field : m_fields)
        out << field.first;
    return out;
}

QString FormBody::value(const QString &name) const
{
    for (const auto &field : m_fields)
        if (field.first == name)
            return field.second;
    return {};
}

} // namespace mcpauth
