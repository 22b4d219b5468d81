package org.jtune.cli.demo;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jtune.eval.run.ChatTestSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generated splits: sizes, balance, no ticket in two splits (nor in the pre-training text), and the same files every time. */
class DemoDatasetTest {
    @Test
    void splitsAreDisjointBalancedAndRepeatable(@TempDir Path a, @TempDir Path b) throws Exception {
        DemoDataset d = DemoDataset.write(a, DemoSize.FULL);
        Set<String> seen = new HashSet<>(d.corpus());
        int[] sizes = {DemoSize.FULL.train(), DemoSize.FULL.validation(), DemoSize.FULL.test()};
        List<Path> splits = List.of(d.train(), d.validation(), d.test());
        for (int s = 0; s < splits.size(); s++) {
            List<ChatTestSet.Example> examples = ChatTestSet.read(splits.get(s));
            assertEquals(sizes[s], examples.size(), splits.get(s).toString());
            Map<String, Integer> perLabel = new HashMap<>();
            for (ChatTestSet.Example e : examples) {
                assertEquals(HelpdeskTickets.SYSTEM, e.prompt().getFirst().content());
                assertTrue(HelpdeskTickets.labels().contains(e.reference()), e.reference());
                assertTrue(seen.add(e.prompt().getLast().content()), "ticket repeated: " + e.prompt().getLast().content());
                perLabel.merge(e.reference(), 1, Integer::sum);
            }
            int min = perLabel.values().stream().min(Integer::compare).orElseThrow();
            int max = perLabel.values().stream().max(Integer::compare).orElseThrow();
            assertEquals(HelpdeskTickets.labels().size(), perLabel.size());
            assertTrue(max - min <= 1, "balanced: " + perLabel);
        }
        assertTrue(d.corpus().stream().anyMatch(t -> t.startsWith("Helpdesk queues:")), "queue names are known text");
        assertTrue(d.corpus().stream().noneMatch(t -> t.contains("\"assistant\"")), "no labelled example in the pre-training text");

        DemoDataset again = DemoDataset.write(b, DemoSize.FULL);
        for (String f : List.of("train.jsonl", "validation.jsonl", "test.jsonl", "pretrain.jsonl")) {
            assertEquals(Files.readString(a.resolve("data").resolve(f)), Files.readString(b.resolve("data").resolve(f)), f);
        }
        assertEquals(d.corpus(), again.corpus());
    }
}
