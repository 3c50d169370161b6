#include "proxy/ToolHeaders.h"

#include <QTest>

using namespace mcpauth;

namespace {

Json schemaWith(const Json &property)
{
    return Json{{"type", "object"}, {"properties", {{"p", property}}}};
}

} // namespace

// x-mcp-header declarations: which are valid, which tools are left out, which headers go out.
class TestToolHeaders : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void validatesDeclarations_data()
    {
        QTest::addColumn<QByteArray>("schema");
        QTest::addColumn<bool>("valid");
        const auto row = [](const char *name, const Json &schema, bool valid) {
            QTest::newRow(name) << toBytes(schema) << valid;
        };
        row("string", schemaWith({{"type", "string"}, {"x-mcp-header", "Region"}}), true);
        row("integer", schemaWith({{"type", "integer"}, {"x-mcp-header", "Count"}}), true);
        row("boolean", schemaWith({{"type", "boolean"}, {"x-mcp-header", "Flag"}}), true);
        row("nested properties",
            schemaWith(
                {{"type", "object"}, {"properties", {{"q", {{"type", "string"}, {"x-mcp-header", "Q"}}}}}}),
            true);
        row("no declarations", schemaWith({{"type", "number"}}), true);
        // §Schema Extension: each of these makes the whole tool invalid.
        row("empty", schemaWith({{"type", "string"}, {"x-mcp-header", ""}}), false);
        row("object type", schemaWith({{"type", "object"}, {"x-mcp-header", "O"}}), false);
        row("array type", schemaWith({{"type", "array"}, {"x-mcp-header", "A"}}), false);
        row("null type", schemaWith({{"type", "null"}, {"x-mcp-header", "N"}}), false);
        row("number type", schemaWith({{"type", "number"}, {"x-mcp-header", "F"}}), false);
        row("space", schemaWith({{"type", "string"}, {"x-mcp-header", "A B"}}), false);
        row("colon", schemaWith({{"type", "string"}, {"x-mcp-header", "A:B"}}), false);
        row("non-ascii", schemaWith({{"type", "string"}, {"x-mcp-header", "R\u00e9gion"}}), false);
        row("control", schemaWith({{"type", "string"}, {"x-mcp-header", "A\u0001"}}), false);
        row("not a string", schemaWith({{"type", "string"}, {"x-mcp-header", 5}}), false);
        row("duplicate, other case",
            Json({{"type", "object"},
                  {"properties",
                   {{"a", {{"type", "string"}, {"x-mcp-header", "Dup"}}},
                    {"b", {{"type", "string"}, {"x-mcp-header", "dup"}}}}}}),
            false);
        row("under items",
            schemaWith({{"type", "array"}, {"items", {{"type", "string"}, {"x-mcp-header", "I"}}}}), false);
        row("under oneOf",
            schemaWith({{"oneOf", Json::array({{{"type", "string"}, {"x-mcp-header", "O"}}})}}), false);
        row("at the root", Json({{"type", "string"}, {"x-mcp-header", "Root"}}), false);
    }
    void validatesDeclarations()
    {
        QFETCH(QByteArray, schema);
        QFETCH(bool, valid);
        const Result<QList<ToolHeaders::Param>> r =
            ToolHeaders::declarations(Json::parse(schema.toStdString()));
        QCOMPARE(r.ok(), valid);
    }

    void filtersToolsAndBuildsHeaders()
    {
        const Json tool{{"name", "weather"},
                        {"inputSchema",
                         {{"type", "object"},
                          {"properties",
                           {{"region", {{"type", "string"}, {"x-mcp-header", "Region"}}},
                            {"days", {{"type", "integer"}, {"x-mcp-header", "Days"}}},
                            {"metric", {{"type", "boolean"}, {"x-mcp-header", "Metric"}}},
                            {"note", {{"type", "string"}, {"x-mcp-header", "Note"}}},
                            {"ratio", {{"type", "number"}}}}}}}};
        const Json bad{{"name", "bad"},
                       {"inputSchema", schemaWith({{"type", "object"}, {"x-mcp-header", "X"}})}};
        ToolHeaders headers;
        const Json out = headers.filterToolsList(Json{{"tools", Json::array({tool, bad})}, {"ttlMs", 5}});
        QCOMPARE(out["tools"].size(), size_t(1));
        QVERIFY(out["tools"][0]["name"] == Json("weather"));
        QVERIFY(out["ttlMs"] == Json(5)); // the rest of the result is untouched
        QVERIFY(headers.knows(QStringLiteral("weather")));
        QVERIFY(!headers.knows(QStringLiteral("bad")));

        const auto h = headers.paramHeaders(
            Json{{"name", "weather"},
                 {"arguments",
                  {{"region", " eu"}, {"days", 3}, {"metric", false}, {"note", nullptr}, {"ratio", 0.5}}}});
        QCOMPARE(h.size(), 3); // null and undeclared arguments get no header
        const auto value = [&h](const char *name) {
            for (const auto &[n, v] : h)
                if (n == name)
                    return v;
            return QByteArray("(absent)");
        };
        QCOMPARE(value("Mcp-Param-Region"), QByteArray("=?base64?IGV1?=")); // leading space: Base64
        QCOMPARE(value("Mcp-Param-Days"), QByteArray("3"));
        QCOMPARE(value("Mcp-Param-Metric"), QByteArray("false"));
        QVERIFY(headers.paramHeaders(Json{{"name", "unknown"}, {"arguments", {{"region", "x"}}}}).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestToolHeaders)
#include "TestToolHeaders.moc"
