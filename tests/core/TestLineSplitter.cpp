#include "proxy/LineSplitter.h"

#include <QTest>

using namespace mcpauth;

namespace {

QList<QByteArray> lines(const QList<LineSplitter::Event> &events)
{
    QList<QByteArray> out;
    for (const LineSplitter::Event &e : events)
        out << (e.kind == LineSplitter::Event::Kind::Oversized ? QByteArrayLiteral("<oversized>") : e.line);
    return out;
}

} // namespace

class TestLineSplitter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void splitsOnNewlinesAcrossChunks()
    {
        LineSplitter s(100);
        QCOMPARE(lines(s.feed("ab", 2)), QList<QByteArray>());
        QCOMPARE(lines(s.feed("c\nde\r\n\nf", 8)), (QList<QByteArray>{"abc", "de", ""}));
        QCOMPARE(lines(s.feed("g\n", 2)), QList<QByteArray>{"fg"});
        QCOMPARE(lines(s.finish()), QList<QByteArray>());
    }

    void lastLineWithoutNewline()
    {
        LineSplitter s(100);
        QCOMPARE(lines(s.feed("x\ny", 3)), QList<QByteArray>{"x"});
        QCOMPARE(lines(s.finish()), QList<QByteArray>{"y"});
    }

    void oversizedLineIsDroppedAndReportedOnce()
    {
        LineSplitter s(4);
        QCOMPARE(lines(s.feed("123", 3)), QList<QByteArray>());
        QCOMPARE(lines(s.feed("456", 3)), QList<QByteArray>());
        QCOMPARE(lines(s.feed("789", 3)), QList<QByteArray>());
        QCOMPARE(lines(s.feed("0\nok\n", 5)), (QList<QByteArray>{"<oversized>", "ok"}));
        QCOMPARE(lines(s.feed("1234\n", 5)), QList<QByteArray>{"1234"}); // exactly the limit is fine
    }
};

QTEST_GUILESS_MAIN(TestLineSplitter)
#include "TestLineSplitter.moc"
