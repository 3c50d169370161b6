#pragma once

#include <QString>

namespace mcpauth {

/// What went wrong, as a value. The category decides what the caller does next:
/// Network → retry later (never delete state), Protocol → surface to the user,
/// Security → abort and never retry, Config → fix the setup, Cancelled → stop quietly,
/// LoginRequired → the user has to sign in (again), Keychain → no secret storage answers.
/// `code` is stable and machine-readable (e.g. "invalid_grant", "issuer_mismatch");
/// `message` is for humans and must never contain a secret.
struct Error
{
    enum class Category { Network, Protocol, Security, Config, Cancelled, LoginRequired, Keychain, Internal };

    Category category = Category::Internal;
    QString code;
    QString message;
    /// Why a request was refused, for the caller to act on (the socket's error data `reason`):
    /// "user", "timeout", "policy", "identity". Empty for other errors.
    QString reason;

    Error() = default;
    Error(Category category, QString code, QString message, QString reason = {})
        : category(category), code(std::move(code)), message(std::move(message)), reason(std::move(reason))
    {}

    static Error network(QString code, QString message)
    {
        return {Category::Network, std::move(code), std::move(message)};
    }
    static Error protocol(QString code, QString message)
    {
        return {Category::Protocol, std::move(code), std::move(message)};
    }
    static Error security(QString code, QString message)
    {
        return {Category::Security, std::move(code), std::move(message)};
    }
    static Error config(QString code, QString message)
    {
        return {Category::Config, std::move(code), std::move(message)};
    }
    static Error cancelled(QString message = QStringLiteral("cancelled"))
    {
        return {Category::Cancelled, QStringLiteral("cancelled"), std::move(message)};
    }
    static Error loginRequired(QString message)
    {
        return {Category::LoginRequired, QStringLiteral("login_required"), std::move(message)};
    }
    static Error keychain(QString message)
    {
        return {Category::Keychain, QStringLiteral("keychain_unavailable"), std::move(message)};
    }
    static Error internal(QString message)
    {
        return {Category::Internal, QStringLiteral("internal"), std::move(message)};
    }
    /// The app may not have what it asked for: the user said no ("user"), nobody answered in time
    /// ("timeout"), or who is asking cannot be told ("identity").
    static Error approvalDenied(QString reason, QString message)
    {
        return {Category::Security, QStringLiteral("approval_denied"), std::move(message), std::move(reason)};
    }

    /// Same failure with more context in front: "token endpoint: <message>".
    Error withContext(const QString &context) const
    {
        return {category, code, context + QStringLiteral(": ") + message, reason};
    }
    bool isRetryable() const { return category == Category::Network; }
};

QString categoryName(Error::Category category);

} // namespace mcpauth
