package org.jtune.train.data;

import org.jtune.models.chat.Message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;

/** Oversampling tops rare labels up to ⌈largest / max ratio⌉ with their own examples, evenly and seeded. */
class LabelBalanceTest {
    private static final Path FILE = Path.of("train.jsonl");

    private static List<Conversation> data(int... perLabel) {
        List<Conversation> out = new ArrayList<>();
        int line = 1;
        for (int l = 0; l < perLabel.length; l++) {
            for (int i = 0; i < perLabel[l]; i++) {
                out.add(new Conversation(List.of(Message.user("q" + l + "-" + i), Message.assistant("label" + l)),
                        new SourceLine(FILE, line++), DatasetFormat.CHAT));
            }
        }
        return out;
    }

    private static Map<String, Integer> counts(List<Conversation> c) {
        Map<String, Integer> m = new HashMap<>();
        for (Conversation x : c) m.merge(x.finalAnswer().orElseThrow() + "|" + x.messages().getFirst().content(), 1, Integer::sum);
        return m;
    }

    @Test
    void fullBalanceRepeatsEachRareExampleEvenly() throws Exception {
        List<Conversation> in = data(10, 4, 3);
        LabelBalance.Result r = LabelBalance.oversample(in, 1.0, 5);
        assertEquals(30, r.examples().size());
        assertEquals(in, r.examples().subList(0, in.size()));
        assertEquals(List.of(10L, 10L), List.of(r.counts().get("label1")[1], r.counts().get("label2")[1]));
        Map<String, Integer> copies = counts(r.examples());
        // label1: 4 examples to 10 rows -> each 2 or 3 times; label2: 3 examples to 10 -> 3 or 4 times
        for (int i = 0; i < 4; i++) assertTrue(copies.get("label1|q1-" + i) >= 2 && copies.get("label1|q1-" + i) <= 3);
        for (int i = 0; i < 3; i++) assertTrue(copies.get("label2|q2-" + i) >= 3 && copies.get("label2|q2-" + i) <= 4);
        for (int i = 0; i < 10; i++) assertEquals(1, copies.get("label0|q0-" + i));
        assertTrue(r.applied());
        assertTrue(r.summary().startsWith("balance oversample (max ratio 1.00): 17 -> 30 training examples; label1 4 -> 10, label2 3 -> 10"),
                r.summary());
        assertEquals(r.examples(), LabelBalance.oversample(in, 1.0, 5).examples());
    }

    @Test
    void maxRatioLeavesLabelsAboveTheBoundAlone() throws Exception {
        LabelBalance.Result r = LabelBalance.oversample(data(12, 7, 2), 2.0, 1);
        assertEquals(7, r.counts().get("label1")[1]);   // 7 >= ceil(12 / 2)
        assertEquals(6, r.counts().get("label2")[1]);
        assertTrue(r.json().contains("\"examples_after\" : 25"), r.json());
        LabelBalance.Result none = LabelBalance.oversample(data(5, 5), 1.0, 1);
        assertFalse(none.applied());
        assertThrows(JtuneException.class, () -> LabelBalance.oversample(data(1, 1, 1), 1.0, 1));   // free text, not labels
    }
}
