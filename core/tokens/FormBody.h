#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace mcpauth {

/// An application/x-www-form-urlencoded request body (token and revocation requests), built with
/// the exact encoding RFC 6749 Appendix B requires: UTF-8, then every byte except ALPHA, DIGIT,
/// "-", ".", "_" and "*" percent-encoded, with space as "+". QUrlQuery is not used because it
/// leaves "+", "&" and "=" ambiguous in values.
class FormBody
{
public:
    /// Appends name=value. Empty values are sent as "name=" (callers skip optional parameters).
    FormBody &add(const QString &name, const QString &value);
    /// Appends name=value only when value is not empty.
    FormBody &addIfNotEmpty(const QString &name, const QString &value);

    QByteArray toBytes() const;
    /// The names in order (for logging: never the values).
    QStringList names() const;
    /// The first value given for `name`, or empty.
    QString value(const QString &name) const;

    /// RFC 6749 Appendix B encoding of one name or value.
    static QByteArray encode(const QString &value);

private:
    QList<QPair<QString, QString>> m_fields;
};

} // namespace mcpauth
