package org.jtune.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading predictions JSONL: the fields, and every kind of bad input named by file:line. */
class PredictionFileTest {
    @TempDir
    Path dir;

    Path file(String text) throws Exception {
        Path p = dir.resolve("p.jsonl");
        Files.writeString(p, text);
        return p;
    }

    void fails(String text, String... parts) throws Exception {
        Path p = file(text);
        JtuneException e = assertThrows(JtuneException.class, () -> PredictionFile.read(p));
        for (String part : parts) assertTrue(e.getMessage().contains(part), e.getMessage() + " lacks " + part);
    }

    @Test
    void readsFieldsSkipsBlankLinesAndNumbersMissingIds() throws Exception {
        List<Prediction> ps = PredictionFile.read(file("""
                {"id": "a", "input": "q", "reference": "yes", "prediction": "Yes.", "label_set": ["yes", "no"]}

                {"reference": {"k": 1}, "prediction": "{\\"k\\": 1}"}
                """));
        assertEquals(2, ps.size());
        assertEquals("a", ps.get(0).id());
        assertEquals(List.of("yes", "no"), ps.get(0).labelSet());
        assertEquals("1", ps.get(1).id()); // ordinal among records
        assertEquals("{\"k\":1}", ps.get(1).reference());
        assertTrue(ps.get(1).where().endsWith("p.jsonl:3"));
    }

    @Test
    void badInputNamesFileAndLine() throws Exception {
        fails("", "no predictions");
        fails("\n\n", "no predictions");
        fails("{\"reference\": \"a\", \"prediction\": \"b\"}\n{oops\n", "p.jsonl:2", "not valid JSON");
        fails("[1, 2]\n", "p.jsonl:1", "JSON object");
        fails("{\"prediction\": \"b\"}\n", "p.jsonl:1", "missing field \"reference\"");
        fails("{\"reference\": \"a\"}\n", "missing field \"prediction\"");
        fails("{\"reference\": \"a\", \"prediction\": null}\n", "\"prediction\" is null");
        fails("{\"reference\": \"a\", \"prediction\": \"b\", \"label_set\": \"a\"}\n", "label_set", "array");
        fails("{\"reference\": \"a\", \"prediction\": \"b\", \"label_set\": [1]}\n", "only strings");
        fails("{\"id\": \"x\", \"reference\": \"a\", \"prediction\": \"b\"}\n{\"id\": \"x\", \"reference\": \"a\", \"prediction\": \"b\"}\n",
                "p.jsonl:2", "already used on line 1");
        JtuneException e = assertThrows(JtuneException.class, () -> PredictionFile.read(dir.resolve("none.jsonl")));
        assertTrue(e.getMessage().contains("no such file"));
    }

    @Test
    void readsLabelFiles() throws Exception {
        Path p = dir.resolve("labels.txt");
        Files.writeString(p, "# intents\npositive\n\nnegative\n");
        assertEquals(List.of("positive", "negative"), PredictionFile.readLabels(p));
        Files.writeString(p, "# nothing\n");
        assertThrows(JtuneException.class, () -> PredictionFile.readLabels(p));
    }
}
