package org.jtune.train.data.review;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jtune.train.data.DatasetFormat;
import org.junit.jupiter.api.Test;

/** The input and answer of a row in every dataset format, read and replaced without touching other fields. */
class RowFieldsTest {

    @Test
    void multiTurnChatEditsTheLastUserTurnAndTheFinalAnswer() throws Exception {
        ObjectNode row = RowFields.parse("""
                {"id":7,"messages":[{"role":"system","content":"S"},{"role":"user","content":"u1"},{"role":"assistant","content":"a1"},\
                {"role":"user","content":"u2"},{"role":"assistant","content":"a2"}]}""");
        assertEquals("u2", RowFields.input(row, DatasetFormat.CHAT));
        assertEquals("a2", RowFields.answer(row, DatasetFormat.CHAT));
        assertEquals("user: u1\nassistant: a1", RowFields.context(row, DatasetFormat.CHAT));
        RowFields.setInput(row, DatasetFormat.CHAT, "U2");
        RowFields.setAnswer(row, DatasetFormat.CHAT, "A2");
        assertEquals("{\"id\":7,\"messages\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"u1\"},"
                + "{\"role\":\"assistant\",\"content\":\"a1\"},{\"role\":\"user\",\"content\":\"U2\"},{\"role\":\"assistant\",\"content\":\"A2\"}]}",
                RowFields.write(row));
    }

    @Test
    void shareGptAlpacaCompletionAndText() throws Exception {
        ObjectNode sg = RowFields.parse("{\"conversations\":[{\"from\":\"human\",\"value\":\"q\"},{\"from\":\"gpt\",\"value\":\"a\"}]}");
        assertEquals("q", RowFields.input(sg, DatasetFormat.SHAREGPT));
        assertEquals("a", RowFields.answer(sg, DatasetFormat.SHAREGPT));

        ObjectNode withInput = RowFields.parse("{\"instruction\":\"Classify\",\"input\":\"my card\",\"output\":\"cards\"}");
        assertEquals("my card", RowFields.input(withInput, DatasetFormat.ALPACA));
        RowFields.setInput(withInput, DatasetFormat.ALPACA, "my new card");
        assertEquals("Classify", withInput.get("instruction").asText());
        assertEquals("my new card", withInput.get("input").asText());
        ObjectNode noInput = RowFields.parse("{\"instruction\":\"Say hi\",\"input\":\"\",\"output\":\"hi\"}");
        assertEquals("Say hi", RowFields.input(noInput, DatasetFormat.ALPACA));

        ObjectNode completion = RowFields.parse("{\"prompt\":\"2+2=\",\"completion\":\"4\"}");
        assertEquals("2+2=", RowFields.input(completion, DatasetFormat.COMPLETION));
        assertTrue(RowFields.setAnswer(completion, DatasetFormat.COMPLETION, "four"));
        assertEquals("four", completion.get("completion").asText());

        ObjectNode text = RowFields.parse("{\"text\":\"once upon a time\"}");
        assertNull(RowFields.input(text, DatasetFormat.TEXT));
        assertFalse(RowFields.setInput(text, DatasetFormat.TEXT, "x"));
        assertEquals("once upon a time", RowFields.answer(text, DatasetFormat.TEXT));
    }
}
