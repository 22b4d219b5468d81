package org.jtune.train.data.split;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DatasetRows;
import org.jtune.train.data.NearDuplicateIndex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeded, stratified splits that keep duplicate groups together, by ratio and by count. */
class DataSplitTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static String row(String user, String label) {
        var o = JSON.createObjectNode();
        var m = o.putArray("messages");
        m.addObject().put("role", "user").put("content", user);
        m.addObject().put("role", "assistant").put("content", label);
        return o.toString();
    }

    /** 600 rows over 3 labels (300/200/100); every 25th text has an exact, an upper-case and a one-word-longer copy. */
    private Path dataset() throws Exception {
        Random r = new Random(3);
        String[] labels = {"card", "refund", "fee"};
        int[] per = {300, 200, 100};
        List<String> lines = new ArrayList<>();
        for (int l = 0; l < 3; l++) {
            for (int i = 0; i < per[l]; i++) {
                String base = "ticket " + labels[l] + " number " + i + " about issue " + r.nextInt(1_000_000) + " please help";
                lines.add(row(base, labels[l]));
                if (i % 25 == 0) { lines.add(row(base, labels[l])); i++; }                        // exact duplicate
                if (i % 25 == 1) { lines.add(row(base.toUpperCase() + "!", labels[l])); i++; }    // same normalised text
                if (i % 25 == 2) { lines.add(row(base + " now", labels[l])); i++; }                 // near duplicate
            }
        }
        Path f = dir.resolve("all.jsonl");
        Files.write(f, lines);
        return f;
    }

    private static Map<String, Set<String>> inputsBySplit(Path outDir) throws Exception {
        Map<String, Set<String>> out = new HashMap<>();
        for (String s : SplitOptions.NAMES) {
            Set<String> texts = new HashSet<>();
            for (Conversation c : DatasetRows.read(outDir.resolve(s + ".jsonl")).examples()) texts.add(NearDuplicateIndex.inputText(c));
            out.put(s, texts);
        }
        return out;
    }

    @Test
    void stratifiedRatiosMeetTargetsKeepGroupsTogetherAndRepeatByteForByte() throws Exception {
        Path in = dataset();
        int n = DatasetRows.read(in).examples().size();
        SplitReport r = DataSplit.run(SplitOptions.builder(in, dir.resolve("a")).ratios(0.8, 0.1, 0.1).stratify(true).seed(5).build());

        assertEquals(n, r.examples());
        long[] targets = SplitAllocation.targets(n, new double[] {0.8, 0.1, 0.1});
        for (int s = 0; s < 3; s++) assertEquals(targets[s], r.splits().get(s).rows(), r.text(10));
        // every 25th base text comes with an exact copy, an upper-case copy and a one-word edit: 24 groups of 4
        assertEquals(24, r.multiMemberGroups(), r.text(10));
        assertEquals(96, r.examplesInMultiMemberGroups());
        assertEquals(48, r.sameTextLinks());
        assertEquals(24, r.nearLinks());
        r.sharedInputs().values().forEach(v -> assertEquals(0L, v));
        // each label keeps its share within a few rows (groups of two or three move together)
        Map<String, Integer> totals = Map.of("card", 300, "refund", 200, "fee", 100);
        r.labels().forEach((label, counts) -> {
            assertEquals((long) totals.get(label), counts[0] + counts[1] + counts[2]);
            assertEquals(0.1 * totals.get(label), counts[1], 3.0, label);
            assertEquals(0.1 * totals.get(label), counts[2], 3.0, label);
        });
        // no input, after normalising, and no near duplicate, in two splits
        Map<String, Set<String>> bySplit = inputsBySplit(dir.resolve("a"));
        NearDuplicateIndex train = new NearDuplicateIndex(NearDuplicateIndex.DEFAULT_THRESHOLD);
        bySplit.get("train").forEach(train::add);
        for (String held : List.of("validation", "test")) {
            for (String t : bySplit.get(held)) {
                assertTrue(!bySplit.get("train").contains(t), t);
                assertTrue(train.matches(t).isEmpty(), t);
            }
        }
        assertTrue(Files.exists(dir.resolve("a").resolve(DataSplit.REPORT_FILE)));
        assertEquals(5, JSON.readTree(dir.resolve("a").resolve(DataSplit.REPORT_FILE).toFile()).get("seed").asLong());

        DataSplit.run(SplitOptions.builder(in, dir.resolve("b")).ratios(0.8, 0.1, 0.1).stratify(true).seed(5).build());
        DataSplit.run(SplitOptions.builder(in, dir.resolve("c")).ratios(0.8, 0.1, 0.1).stratify(true).seed(6).build());
        for (String s : SplitOptions.NAMES) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(s + ".jsonl")), Files.readAllBytes(dir.resolve("b").resolve(s + ".jsonl")));
        }
        assertTrue(!Files.readString(dir.resolve("a/test.jsonl")).equals(Files.readString(dir.resolve("c/test.jsonl"))));
    }

    @Test
    void countsLeaveTheRestUnusedAndLinesAreCopiedUnchanged() throws Exception {
        Path in = dataset();
        SplitReport r = DataSplit.run(SplitOptions.builder(in, dir.resolve("o")).counts(100, 20, 30).seed(1).build());
        assertEquals(List.of(100L, 20L, 30L), r.splits().stream().map(SplitReport.Split::rows).toList());
        assertEquals(r.examples() - 150, r.unused());
        Set<String> original = new HashSet<>(Files.readAllLines(in));
        for (String s : SplitOptions.NAMES) for (String line : Files.readAllLines(dir.resolve("o").resolve(s + ".jsonl"))) assertTrue(original.contains(line));
        assertTrue(r.labels().isEmpty());
    }

    @Test
    void refusesBadOptionsAndFilesWithErrors() throws Exception {
        Path in = dataset();
        assertThrows(JtuneException.class, () -> SplitOptions.builder(in, dir).ratios(0.8, 0.1).counts(1, 2).build());
        assertThrows(JtuneException.class, () -> SplitOptions.builder(in, dir).ratios(0.8, 0.3).build());
        assertThrows(JtuneException.class, () -> DataSplit.run(SplitOptions.builder(in, dir.resolve("x")).counts(100000, 1).seed(1).build()));
        Path broken = dir.resolve("broken.jsonl");
        Files.writeString(broken, row("a", "b") + "\n{not json\n");
        JtuneException e = assertThrows(JtuneException.class,
                () -> DataSplit.run(SplitOptions.builder(broken, dir.resolve("y")).ratios(0.5, 0.5).seed(1).build()));
        assertTrue(e.getMessage().contains(broken + ":2: error: bad JSON"), e.getMessage());
        Path free = dir.resolve("free.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 20; i++) lines.add(row("q" + i, "a different answer " + i));
        Files.write(free, lines);
        assertThrows(JtuneException.class,
                () -> DataSplit.run(SplitOptions.builder(free, dir.resolve("z")).ratios(0.5, 0.5).stratify(true).seed(1).build()));
    }

    @Test
    void largestRemainderTargets() {
        assertArrayEquals(new long[] {8, 1, 1}, SplitAllocation.targets(10, new double[] {0.8, 0.1, 0.1}));
        assertArrayEquals(new long[] {8003, 1000, 1000}, SplitAllocation.targets(10003, new double[] {0.8, 0.1, 0.1}));
        assertArrayEquals(new long[] {2, 1}, SplitAllocation.targets(3, new double[] {0.5, 0.5}));
        assertArrayEquals(new long[] {0, 0, 0}, SplitAllocation.targets(0, new double[] {0.8, 0.1, 0.1}));
    }
}
