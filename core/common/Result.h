#pragma once

#include "common/Error.h"

#include <utility>
#include <variant>

namespace mcpauth {

/// A value or an Error (std::expected-style, C++20). Errors are values: flows hand a Result
/// through their one terminal signal or callback, never an exception.
template<typename T> class [[nodiscard]] Result
{
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    const T &value() const & { return std::get<0>(m_v); }
    T &value() & { return std::get<0>(m_v); }
    T &&value() && { return std::get<0>(std::move(m_v)); }
    const T *operator->() const { return &std::get<0>(m_v); }
    T *operator->() { return &std::get<0>(m_v); }
    const T &operator*() const & { return value(); }

    const Error &error() const { return std::get<1>(m_v); }

private:
    std::variant<T, Error> m_v;
};

/// Result for operations that produce nothing but can fail.
struct Unit
{
};
using Status = Result<Unit>;
inline Status okStatus()
{
    return Unit{};
}

} // namespace mcpauth
