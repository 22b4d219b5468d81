package org.jtune.train.data.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Delimiter detection: the candidate that splits the header and the rows alike wins; a sep= line decides. */
class CsvDialectTest {

    @Test
    void detectsCommaTabSemicolonAndPipe() {
        assertEquals(',', CsvDialect.detect("a,b\n\"x;y\",1\n\"p;q\",2\n", false).delimiter());
        assertEquals('\t', CsvDialect.detect("a\tb\nx, y\t1\nz, w\t2\n", false).delimiter());
        assertEquals(';', CsvDialect.detect("text;label\nHello, you;1\nBye, now;2\n", false).delimiter());
        assertEquals('|', CsvDialect.detect("text|label\nHello|1\nBye|2\n", false).delimiter());
    }

    @Test
    void sepLineNamesTheDelimiterAndIsSkipped() {
        CsvDialect d = CsvDialect.detect("sep=;\r\na;b\n1;2\n", false);
        assertEquals(';', d.delimiter());
        assertEquals(7, d.skipOffset());
        assertEquals(1, d.skipLines());
    }

    @Test
    void oneColumnWhenNothingSplitsTheHeader() {
        CsvDialect d = CsvDialect.detect("text\nhello\nworld\n", true);
        assertEquals('\t', d.delimiter());
        assertTrue(d.how().startsWith("one column"), d.how());
    }
}
