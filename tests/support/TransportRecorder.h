#pragma once

#include "common/Json.h"
#include "proxy/McpTransport.h"

#include <QList>
#include <QPair>

#include <tuple>

namespace mcpauth::test {

/// Everything an McpTransport reported, in order: for the transport tests.
struct TransportRecorder
{
    QList<Json> messages;
    QList<QPair<Json, Error>> failures;
    QList<std::tuple<Json, int, BearerChallenge>> auth;
    int closed = 0;

    explicit TransportRecorder(McpTransport *t)
    {
        QObject::connect(t, &McpTransport::messageReceived, t, [this](const Json &m) { messages << m; });
        QObject::connect(t, &McpTransport::sendFailed, t,
                         [this](const Json &m, const Error &e) { failures << qMakePair(m, e); });
        QObject::connect(
            t, &McpTransport::authorizationRequired, t,
            [this](const Json &m, int s, const BearerChallenge &c) { auth << std::make_tuple(m, s, c); });
        QObject::connect(t, &McpTransport::closed, t, [this] { ++closed; });
    }
    bool hasResponse(const Json &id) const
    {
        for (const Json &m : messages)
            if (m.contains("id") && m["id"] == id && !m.contains("method"))
                return true;
        return false;
    }
    QString failureCode(int i = 0) const { return i < failures.size() ? failures[i].second.code : QString(); }
};

} // namespace mcpauth::test
