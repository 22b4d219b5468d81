package org.jtune.eval.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jtune.models.chat.Message;
import org.junit.jupiter.api.Test;

/** `eval --limit`: a seeded sample in file order, stratified by label (largest remainder) for classification. */
class TestSetSampleTest {
    /** A label-sorted file: 60 "a", 30 "b", 10 "c". */
    private static List<ChatTestSet.Example> sorted() {
        List<ChatTestSet.Example> all = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            String label = i < 60 ? "a" : i < 90 ? "b" : "c";
            all.add(new ChatTestSet.Example(Integer.toString(i), List.of(Message.user("q" + i)), label, "t:" + (i + 1)));
        }
        return all;
    }

    @Test
    void stratifiedSampleKeepsTheLabelShares() {
        List<ChatTestSet.Example> s = TestSetSample.draw(sorted(), 10, 1, true);
        Map<String, Integer> counts = new TreeMap<>();
        for (var e : s) counts.merge(e.reference(), 1, Integer::sum);
        assertEquals(Map.of("a", 6, "b", 3, "c", 1), counts);
        for (int i = 1; i < s.size(); i++) assertEquals(true, Integer.parseInt(s.get(i - 1).id()) < Integer.parseInt(s.get(i).id()));
    }

    @Test
    void sameSeedSameSampleOtherSeedAnother() {
        assertEquals(TestSetSample.draw(sorted(), 7, 3, true), TestSetSample.draw(sorted(), 7, 3, true));
        assertNotEquals(TestSetSample.draw(sorted(), 7, 3, false), TestSetSample.draw(sorted(), 7, 4, false));
        assertEquals(7, TestSetSample.draw(sorted(), 7, 3, false).size());
        assertEquals(100, TestSetSample.draw(sorted(), 500, 3, true).size());
    }
}
