#pragma once

#include "common/Json.h"

#include <QTest>

/// QCOMPARE for JSON values (QTest cannot print nlohmann::json): on failure, prints the actual one.
#define QCOMPARE_JSON(actual, expected)                                                                      \
    QVERIFY2((actual) == mcpauth::Json(expected), mcpauth::toBytes(actual).constData())

namespace mcpauth::test {

/// A JSON-RPC request as a host or a test sends it.
inline Json request(const Json &id, const char *method, const Json &params = Json::object())
{
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
}

} // namespace mcpauth::test
