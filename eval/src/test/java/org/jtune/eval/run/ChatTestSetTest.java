package org.jtune.eval.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A test set with bad lines is refused naming every one of them (up to ten), as data check and train name them. */
class ChatTestSetTest {
    private static final String GOOD = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"a\"}]}\n";

    @Test
    void everyBadLineIsNamed(@TempDir Path tmp) throws Exception {
        Path f = Files.writeString(tmp.resolve("t.jsonl"), GOOD + "{oops\n" + GOOD + "{\"messages\":[]}\n"
                + "{\"messages\":[{\"role\":\"user\",\"content\":\"no answer\"}]}\n");
        JtuneException e = assertThrows(JtuneException.class, () -> ChatTestSet.read(f));
        String m = e.getMessage();
        assertTrue(m.contains("3 bad lines"), m);
        assertTrue(m.contains("t.jsonl:2: not valid JSON") && m.contains("t.jsonl:4: no \"messages\" array")
                && m.contains("t.jsonl:5: the last message must be"), m);
        assertEquals(2, ChatTestSet.read(Files.writeString(tmp.resolve("ok.jsonl"), GOOD + "\n" + GOOD)).size());
    }

    @Test
    void manyBadLinesAreCounted(@TempDir Path tmp) throws Exception {
        Path f = Files.writeString(tmp.resolve("t.jsonl"), "{oops\n".repeat(25));
        String m = assertThrows(JtuneException.class, () -> ChatTestSet.read(f)).getMessage();
        assertTrue(m.contains("25 bad lines") && m.contains("t.jsonl:10:") && !m.contains("t.jsonl:11:") && m.contains("and 15 more"), m);
    }
}
