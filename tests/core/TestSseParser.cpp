#include "proxy/SseParser.h"

#include <QTest>

using namespace mcpauth;

namespace {

// Feeds the whole stream at once and returns the events (or an empty list on error).
QList<SseEvent> parseAll(const QByteArray &stream, SseParser *parser = nullptr)
{
    SseParser local;
    SseParser &p = parser ? *parser : local;
    const auto r = p.feed(stream);
    return r ? *r : QList<SseEvent>{};
}

QString describe(const QList<SseEvent> &events)
{
    QStringList out;
    for (const auto &e : events)
        out << e.event + QLatin1Char('|') + e.data + QLatin1Char('|') + e.id;
    return out.join(QLatin1Char(';'));
}

} // namespace

class TestSseParser : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parsesSpecExamples_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<QString>("expected"); // event|data|id;...

        // WHATWG HTML §9.2.5 examples and the rules around them.
        QTest::newRow("multi-line data")
            << QByteArray("data: YHOO\ndata: +2\ndata: 10\n\n") << QStringLiteral("message|YHOO\n+2\n10|");
        QTest::newRow("comment, id, last event id carried")
            << QByteArray(": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  "
                          "third event\n\n")
            << QStringLiteral("message|first event|1;message|second event|;message| third event|");
        QTest::newRow("empty data and no-data block")
            << QByteArray("data\n\ndata\ndata\n\ndata:\n") << QStringLiteral("message||;message|\n|");
        QTest::newRow("one leading space only")
            << QByteArray("data:test\n\ndata: test\n\n") << QStringLiteral("message|test|;message|test|");
        QTest::newRow("CRLF") << QByteArray("data: a\r\ndata: b\r\n\r\n") << QStringLiteral("message|a\nb|");
        QTest::newRow("CR") << QByteArray("data: a\rdata: b\r\r") << QStringLiteral("message|a\nb|");
        QTest::newRow("mixed endings") << QByteArray("data: a\r\n\ndata: b\r\rdata: c\n\r\n")
                                       << QStringLiteral("message|a|;message|b|;message|c|");
        QTest::newRow("event name") << QByteArray("event: endpoint\ndata: /messages?s=1\n\ndata: x\n\n")
                                    << QStringLiteral("endpoint|/messages?s=1|;message|x|");
        QTest::newRow("event name reset after dispatch")
            << QByteArray("event: a\ndata: 1\n\ndata: 2\n\n") << QStringLiteral("a|1|;message|2|");
        QTest::newRow("id with NUL ignored") << QByteArray("id: 7\ndata: a\n\nid: 8\0x\ndata: b\n\n", 36)
                                             << QStringLiteral("message|a|7;message|b|7");
        QTest::newRow("unknown field ignored")
            << QByteArray("foo: bar\ndata: a\n\n") << QStringLiteral("message|a|");
        QTest::newRow("BOM at start") << QByteArray("\xEF\xBB\xBF"
                                                    "data: a\n\n")
                                      << QStringLiteral("message|a|");
        QTest::newRow("unterminated event dropped")
            << QByteArray("data: a\n\ndata: b\n") << QStringLiteral("message|a|");
        QTest::newRow("utf8") << QByteArray("data: \xC3\xA9t\xC3\xA9\n\n")
                              << QStringLiteral("message|\u00e9t\u00e9|");
        QTest::newRow("json message")
            << QByteArray("event: message\nid: 42\ndata: {\"jsonrpc\":\"2.0\",\"id\":1}\n\n")
            << QStringLiteral("message|{\"jsonrpc\":\"2.0\",\"id\":1}|42");
    }
    void parsesSpecExamples()
    {
        QFETCH(QByteArray, stream);
        QFETCH(QString, expected);
        QCOMPARE(describe(parseAll(stream)), expected);
    }

    void sameResultForEverySplit_data() { parsesSpecExamples_data(); }
    void sameResultForEverySplit()
    {
        QFETCH(QByteArray, stream);
        QFETCH(QString, expected);
        // Split into two chunks at every byte boundary, and byte by byte.
        for (qsizetype at = 0; at <= stream.size(); ++at) {
            SseParser p;
            QList<SseEvent> events = *p.feed(stream.left(at));
            events += *p.feed(stream.mid(at));
            QVERIFY2(describe(events) == expected, qPrintable(QStringLiteral("split at %1").arg(at)));
        }
        SseParser p;
        QList<SseEvent> events;
        for (const char c : stream)
            events += *p.feed(QByteArray(1, c));
        QCOMPARE(describe(events), expected);
    }

    void crAtChunkEndThenLf()
    {
        // \r ends one chunk, \n starts the next: one line break, not two (no premature dispatch).
        SseParser p;
        QCOMPARE(p.feed("data: a\r")->size(), 0);
        QCOMPARE(p.feed("\ndata: b\r")->size(), 0);
        const auto events = *p.feed("\n\r\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QStringLiteral("a\nb"));
    }

    void bomOnlyAtStreamStart()
    {
        SseParser p;
        const auto events = *p.feed("data: a\n\n\xEF\xBB\xBF"
                                    "data: b\n\n");
        // A BOM later in the stream is part of the field name: "\uFEFFdata" is an unknown field.
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QStringLiteral("a"));
        QCOMPARE(describe(parseAll("\xEF\xBB\xBF\xEF\xBB\xBF"
                                   "data: x\n\n")),
                 QString());
    }

    void retryField()
    {
        SseParser p;
        auto events = *p.feed("retry: 2000\nid: e1\ndata: \n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].retryMs, std::optional<int>(2000));
        QCOMPARE(events[0].data, QString());
        QCOMPARE(p.retryMs(), std::optional<int>(2000));
        QCOMPARE(p.lastEventId(), QStringLiteral("e1"));

        events = *p.feed("retry: 12a\nretry:\nretry: -5\ndata: x\n\n");
        QCOMPARE(events.size(), 1);
        QVERIFY(!events[0].retryMs.has_value());
        QCOMPARE(p.retryMs(), std::optional<int>(2000)); // invalid values ignored
    }

    void blockWithoutDataSetsIdAndRetry()
    {
        // SEP-1699 priming: an id and a retry with no data line still count for reconnection.
        SseParser p;
        QVERIFY(p.feed("id: prime-1\nretry: 500\n\n")->isEmpty());
        QCOMPARE(p.lastEventId(), QStringLiteral("prime-1"));
        QCOMPARE(p.retryMs(), std::optional<int>(500));
    }

    void lastEventIdOnlyOnDispatch()
    {
        SseParser p;
        QVERIFY(p.feed("id: 1\ndata: a\n\nid: 2\ndata: b\n")->size() == 1);
        QCOMPARE(p.lastEventId(), QStringLiteral("1")); // event 2 never completed
    }

    void restartKeepsIdAndRetry()
    {
        SseParser p;
        QCOMPARE(p.feed("retry: 300\nid: 5\ndata: a\n\ndata: partial")->size(), 1);
        p.restart();
        const auto events = *p.feed("data: b\n\n");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0].data, QStringLiteral("b")); // the partial line is gone
        QCOMPARE(events[0].id, QStringLiteral("5"));
        QCOMPARE(p.retryMs(), std::optional<int>(300));
    }

    void oversizedEventIsAnError()
    {
        SseParser p(1024);
        QByteArray stream;
        for (int i = 0; i < 40; ++i)
            stream += "data: " + QByteArray(40, 'x') + '\n';
        const auto r = p.feed(stream);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QStringLiteral("sse_event_too_large"));
        QVERIFY(p.failed());
        QVERIFY(!p.feed("\n\n").ok()); // stays failed
    }

    void oversizedLineWithoutNewlineIsAnError()
    {
        SseParser p(1024);
        QVERIFY(p.feed("data: " + QByteArray(600, 'x')).ok());
        const auto r = p.feed(QByteArray(600, 'y'));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, QStringLiteral("sse_event_too_large"));
    }

    void largeEventUnderTheCapIsFine()
    {
        SseParser p(1024);
        QByteArray stream;
        for (int i = 0; i < 20; ++i)
            stream += "data: " + QByteArray(40, 'x') + "\n\n";
        const auto r = p.feed(stream);
        QVERIFY(r.ok());
        QCOMPARE(r->size(), 20); // the cap is per event, not per stream
    }
};

QTEST_GUILESS_MAIN(TestSseParser)
#include "TestSseParser.moc"
