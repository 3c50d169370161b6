#include "common/LineFramer.h"

#include <QTest>

using namespace mcpauth;

namespace {

/// Every line the framer has ready, oversized ones as "<oversized>".
QList<QByteArray> take(LineFramer &f)
{
    QList<QByteArray> out;
    while (const std::optional<LineFramer::Line> line = f.next())
        out << (line->kind == LineFramer::Line::Kind::Oversized ? QByteArrayLiteral("<oversized>")
                                                                : line->bytes);
    return out;
}

} // namespace

class TestLineFramer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void splitsOnNewlinesAcrossChunks()
    {
        LineFramer f(100);
        f.append("ab", 2);
        QCOMPARE(take(f), QList<QByteArray>());
        QVERIFY(f.hasPartial());
        f.append("c\nde\r\n\nf", 8);
        QCOMPARE(take(f), (QList<QByteArray>{"abc", "de", ""}));
        f.append(QByteArrayLiteral("g\n"));
        QCOMPARE(take(f), QList<QByteArray>{"fg"});
        f.finish();
        QCOMPARE(take(f), QList<QByteArray>());
        QCOMPARE(f.buffered(), 0);
    }

    void linesComeOutOneAtATime()
    {
        // A caller under back-pressure takes one line and leaves the rest, counted, for later.
        LineFramer f(100);
        f.append(QByteArrayLiteral("one\ntwo\nthr"));
        QCOMPARE(f.buffered(), 9);
        QCOMPARE(f.next()->bytes, QByteArrayLiteral("one"));
        QCOMPARE(f.buffered(), 6);
        QCOMPARE(f.partialBytes(), 3);
        QCOMPARE(f.next()->bytes, QByteArrayLiteral("two"));
        QVERIFY(!f.next());
        f.append(QByteArrayLiteral("ee\n"));
        QCOMPARE(f.next()->bytes, QByteArrayLiteral("three"));
    }

    void lastLineWithoutNewline()
    {
        LineFramer f(100);
        f.append(QByteArrayLiteral("x\ny"));
        QCOMPARE(take(f), QList<QByteArray>{"x"});
        f.finish();
        QCOMPARE(take(f), QList<QByteArray>{"y"});
        QVERIFY(!f.hasPartial());
    }

    void oversizedLineIsDroppedAndReportedOnce()
    {
        LineFramer f(4);
        f.append("123", 3);
        QVERIFY(!f.overflowing());
        f.append("456", 3);
        QVERIFY(f.overflowing());  // known before the newline: a caller may cut the sender now
        QCOMPARE(f.buffered(), 0); // and nothing of it is kept
        f.append("789", 3);
        QCOMPARE(take(f), QList<QByteArray>());
        f.append("0\nok\n", 5);
        QCOMPARE(take(f), (QList<QByteArray>{"<oversized>", "ok"}));
        QVERIFY(!f.overflowing());
        f.append("1234\n", 5);
        QCOMPARE(take(f), QList<QByteArray>{"1234"}); // exactly the limit is fine
    }

    void anOversizedLastLineIsReportedAtTheEnd()
    {
        LineFramer f(2);
        f.append(QByteArrayLiteral("ok\nlong"));
        f.finish();
        QCOMPARE(take(f), (QList<QByteArray>{"ok", "<oversized>"}));
    }
};

QTEST_GUILESS_MAIN(TestLineFramer)
#include "TestLineFramer.moc"
