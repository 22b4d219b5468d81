package org.jtune.train.data.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DataCheck;
import org.jtune.train.data.DataCheckReport;
import org.jtune.train.data.DataCheckText;
import org.jtune.train.data.DatasetRows;
import org.jtune.train.data.NormalisedText;
import org.jtune.train.data.review.ApplyReview;
import org.jtune.train.data.review.ReviewSheet;
import org.jtune.train.data.review.RowFields;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Augmentation end to end: a scripted generator shows each filter and the label kept; stories260K
 * (which writes children's stories, not paraphrases) shows a real model's candidates going through
 * the filters and the review round trip, with no candidate equal to a validation or test input.
 */
class DataAugmentTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static String row(String user, String label) {
        var o = JSON.createObjectNode();
        var m = o.putArray("messages");
        m.addObject().put("role", "system").put("content", "Classify.");
        m.addObject().put("role", "user").put("content", user);
        m.addObject().put("role", "assistant").put("content", label);
        return o.toString();
    }

    /** Hands out scripted texts in order and records the prompts it was given. */
    static final class Scripted implements ParaphraseGenerator {
        final Deque<String> texts;
        final List<String> prompts = new ArrayList<>();

        Scripted(String... texts) {
            this.texts = new ArrayDeque<>(List.of(texts));
        }

        @Override
        public List<String> generate(List<String> p, long seed) {
            prompts.addAll(p);
            List<String> out = new ArrayList<>();
            for (int i = 0; i < p.size(); i++) out.add(texts.isEmpty() ? "" : texts.poll());
            return out;
        }

        @Override
        public String describe() {
            return "scripted";
        }
    }

    @Test
    void scriptedCandidatesAreFilteredAndKeepTheirLabel() throws Exception {
        Path train = dir.resolve("train.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 12; i++) lines.add(row("card question number " + i + " about delivery", "card_arrival"));
        lines.add(row("I want my money back for this order", "request_refund"));
        lines.add(row("Refund the double charge please", "request_refund"));
        Files.write(train, lines);
        Files.write(dir.resolve("validation.jsonl"), List.of(row("Where can I see my refund status?", "request_refund")));
        Files.write(dir.resolve("test.jsonl"), List.of(row("Has my refund been sent yet", "request_refund")));

        Scripted gen = new Scripted(
                "Rewritten message: \"Please give my money back for this purchase.\"",  // kept (cleaned)
                "where can i see my refund status",                                      // validation input
                "Has my refund been sent yet?!",                                         // test input
                "I want my money back for this order!",                                  // same as its source / a training row
                "",                                                                      // empty
                "Is this request refund or card arrival?",                               // names a label
                "please give my money back for this purchase",                           // a kept candidate again
                "Could you return the money I paid twice?");                             // kept
        AugmentOptions o = AugmentOptions.builder(train, dir.resolve("aug.csv")).labels(List.of("request_refund")).n(2)
                .maxAttempts(8).holdouts(DataAugment.holdouts(train, List.of())).seed(3).build();
        AugmentReport r = DataAugment.run(o, gen);

        assertEquals(2, r.holdouts().size());
        assertEquals(1, r.labels().size());
        AugmentReport.PerLabel l = r.labels().getFirst();
        assertEquals(2, l.kept());
        assertEquals(8, l.attempts());
        assertEquals(2, l.rejected().get(CandidateFilter.Reason.LEAKS_HOLDOUT));
        assertEquals(1, l.rejected().get(CandidateFilter.Reason.EMPTY));
        assertEquals(1, l.rejected().get(CandidateFilter.Reason.MENTIONS_LABEL));
        assertEquals(1, l.rejected().get(CandidateFilter.Reason.DUPLICATE_OF_CANDIDATE));
        assertEquals(1, l.rejected().getOrDefault(CandidateFilter.Reason.SAME_AS_SOURCE, 0)
                + l.rejected().getOrDefault(CandidateFilter.Reason.DUPLICATE_OF_TRAINING, 0));
        assertTrue(gen.prompts.getFirst().contains("Message: ") && gen.prompts.getFirst().endsWith("Rewritten message:"), gen.prompts.getFirst());

        List<ReviewSheet.Row> sheet = ReviewSheet.read(dir.resolve("aug.csv"));
        assertEquals(List.of("Please give my money back for this purchase.", "Could you return the money I paid twice?"),
                sheet.stream().map(ReviewSheet.Row::input).toList());
        for (ReviewSheet.Row s : sheet) {
            assertEquals(ReviewSheet.Kind.CANDIDATE, s.kind());
            assertEquals("request_refund", s.answer());
        }
        assertTrue(Files.exists(dir.resolve("aug.html")));

        assertThrows(JtuneException.class, () -> DataAugment.run(AugmentOptions.builder(train, dir.resolve("x.csv"))
                .labels(List.of("no_such_label")).build(), gen));
        assertThrows(JtuneException.class, () -> AugmentOptions.builder(train, dir.resolve("x.csv")).build());
    }

    @Test
    void stories260kCandidatesSurviveTheFiltersAndOnlyApprovedRowsJoin() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Path banking = SharedData.require("data/banking15");
        Path train = banking.resolve("train.jsonl");
        List<Path> holdouts = List.of(banking.resolve("validation.jsonl"), banking.resolve("test.jsonl"));
        AugmentOptions o = AugmentOptions.builder(train, dir.resolve("aug.csv"))
                .labels(List.of("wrong exchange rate for cash withdrawal", "request refund")).n(3).holdouts(holdouts).seed(7).build();
        AugmentReport r;
        try (LocalModelGenerator gen = LocalModelGenerator.load(model, 0.9f, 0.95f, 32)) {
            r = DataAugment.run(o, gen);
        }
        assertTrue(r.kept() > 0, r.text());
        List<ReviewSheet.Row> sheet = ReviewSheet.read(dir.resolve("aug.csv"));
        assertEquals(r.kept(), sheet.size());

        // no candidate equals (even after normalising) a validation or test input, nor a training input
        Set<String> held = new HashSet<>();
        for (Path h : holdouts) for (Conversation c : DatasetRows.read(h).examples()) held.add(NormalisedText.of(c.input().getLast().content()));
        Set<String> trained = new HashSet<>();
        for (Conversation c : DatasetRows.read(train).examples()) trained.add(NormalisedText.of(c.input().getLast().content()));
        for (ReviewSheet.Row s : sheet) {
            assertFalse(held.contains(NormalisedText.of(s.input())), s.input());
            assertFalse(trained.contains(NormalisedText.of(s.input())), s.input());
        }

        // approve every other candidate; the rest are left blank or dropped
        List<ReviewSheet.Row> marked = new ArrayList<>();
        List<String> approved = new ArrayList<>();
        for (int i = 0; i < sheet.size(); i++) {
            ReviewSheet.Row s = sheet.get(i);
            String action = i % 2 == 0 ? "keep" : (i % 4 == 1 ? "drop" : "");
            if (action.equals("keep")) approved.add(s.input());
            marked.add(new ReviewSheet.Row(s.kind(), s.line(), s.rowHash(), s.input(), s.answer(), s.context(), s.sourceInput(),
                    action, "", "", "", "", 0));
        }
        Path markedSheet = dir.resolve("aug-marked.csv");
        ReviewSheet.write(markedSheet, marked, "marked");
        Path out = dir.resolve("train.augmented.jsonl");
        ApplyReview.Result applied = ApplyReview.run(train, markedSheet, out, ApplyReview.defaultChangeLog(out));
        assertEquals(approved.size(), applied.added());
        assertEquals(sheet.size() - approved.size(), applied.candidatesNotApproved());

        List<String> original = Files.readAllLines(train);
        List<String> now = Files.readAllLines(out);
        assertEquals(original, now.subList(0, original.size()));
        List<String> addedInputs = new ArrayList<>();
        for (String line : now.subList(original.size(), now.size())) {
            JsonNode n = JSON.readTree(line);
            assertTrue(n.get("augmented").asBoolean());
            var json = RowFields.parse(line);
            addedInputs.add(RowFields.input(json, org.jtune.train.data.DatasetFormat.CHAT));
            long from = n.get("augmented_from").asLong();
            assertEquals(RowFields.answer(RowFields.parse(original.get((int) from - 1)), org.jtune.train.data.DatasetFormat.CHAT),
                    RowFields.answer(json, org.jtune.train.data.DatasetFormat.CHAT));
        }
        assertEquals(approved, addedInputs);

        DataCheckReport check = DataCheck.run(out);
        assertTrue(check.passed(), () -> DataCheckText.render(check, 20));
        assertEquals(approved.size(), check.files().getFirst().augmented());
    }
}
