package org.jtune.train.data;

import org.jtune.models.chat.Message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The quality report's parts on small hand-made example lists. */
class QualityChecksTest {
    private static final Path FILE = Path.of("t.jsonl");

    private static Conversation chat(long line, String... contents) {
        List<Message> messages = new ArrayList<>();
        int i = 0;
        if (contents.length % 2 == 1) messages.add(Message.system(contents[i++]));
        for (; i < contents.length; i += 2) {
            messages.add(Message.user(contents[i]));
            messages.add(Message.assistant(contents[i + 1]));
        }
        return new Conversation(messages, new SourceLine(FILE, line), DatasetFormat.CHAT);
    }

    private static List<String> lineKinds(IssueLog log) {
        List<String> out = new ArrayList<>();
        for (Issue i : log.warnings()) out.add(i.line() + ":" + i.kind().code());
        return out;
    }

    @Test
    void normalisedTextIgnoresCasePunctuationAndWhitespace() {
        assertEquals("hello world", NormalisedText.of("  Hello,  World!! "));
        assertEquals(NormalisedText.of("Where's my card?"), NormalisedText.of("where s my card"));
        assertEquals("ﬁ".length(), 1);
        assertEquals("fi 2", NormalisedText.of("ﬁ\u00A0²"));   // NFKC: ligature and superscript, no-break space
    }

    @Test
    void whitespaceCounter() {
        TokenCounter c = new WhitespaceTokenCounter();
        assertEquals(0, c.count(""));
        assertEquals(0, c.count(" \n\t "));
        assertEquals(3, c.count("  one two\nthree "));
        assertEquals(2, c.count("a\u3000b"));            // ideographic space separates
        assertEquals("whitespace estimate", c.name());
    }

    @Test
    void lengthDistributionUsesNearestRank() {
        long[] v = new long[100];
        for (int i = 0; i < 100; i++) v[i] = 100 - i;        // 1..100, unsorted
        LengthDistribution d = LengthDistribution.of(v);
        assertEquals(new LengthDistribution(100, 1, 50, 90, 99, 100, 50.5), d);
        LengthDistribution three = LengthDistribution.of(new long[] {7, 3, 5});
        assertEquals(5, three.p50());
        assertEquals(7, three.p90());
        assertEquals(0, LengthDistribution.of(new long[0]).max());
    }

    @Test
    void exactNearDuplicatesAndConflicts() {
        List<Conversation> examples = List.of(
                chat(1, "Where is my card?", "card arrival"),
                chat(2, "Where is my card?", "card arrival"),          // exact duplicate of 1
                chat(3, "where is my card", "Card arrival."),          // near duplicate of 1
                chat(4, "Where is my card?!", "lost card"),            // conflict with 1-3
                chat(5, "Refund please", "request refund"),
                chat(6, "I was charged twice", "transaction charged twice"));
        IssueLog log = new IssueLog();
        DuplicateSummary s = DuplicateScan.scan(examples, log);
        assertEquals(new DuplicateSummary(1, 1, 1, 4), s);
        assertEquals(List.of("2:exact_duplicate", "3:near_duplicate", "1:conflicting_answers"), lineKinds(log));
        assertEquals("same input, 2 different answers: \"card arrival\" (lines 1, 2, 3); \"lost card\" (line 4)",
                log.warnings().get(2).message());
    }

    @Test
    void labelDistributionOnlyForRepeatingSmallAnswerSets() {
        List<Conversation> cls = new ArrayList<>();
        for (int i = 0; i < 12; i++) cls.add(chat(i + 1, "q" + i, i < 10 ? "a" : "b"));
        cls.add(chat(13, "q", " b "));                           // compared after trimming
        LabelDistribution l = LabelDistribution.detect(cls, 50).orElseThrow();
        assertEquals(Map.of("a", 10L, "b", 3L), l.counts());
        assertEquals(List.of("a", "b"), List.copyOf(l.counts().keySet()));
        assertEquals(10.0 / 3, l.imbalanceRatio(), 1e-12);

        List<Conversation> free = List.of(chat(1, "q1", "x"), chat(2, "q2", "y"), chat(3, "q3", "z"));
        assertTrue(LabelDistribution.detect(free, 50).isEmpty());  // every answer different: not classification
        assertTrue(LabelDistribution.detect(cls, 1).isEmpty());    // more labels than allowed
    }

    @Test
    void systemPromptConsistency() {
        List<Conversation> examples = List.of(
                chat(1, "You classify.", "q1", "a"),
                chat(2, "You classify.", "q2", "a"),
                chat(3, "You classify", "q3", "a"),                  // a variant of the main prompt
                chat(4, "q4", "a"));                                 // no system prompt
        IssueLog log = new IssueLog();
        SystemPromptSummary s = SystemPromptSummary.of(examples, log);
        assertEquals(new SystemPromptSummary(2, 1, 2), s);
        assertEquals(List.of("4:mixed_system_prompt", "3:system_prompt_variants"), lineKinds(log));

        IssueLog quiet = new IssueLog();
        assertEquals(new SystemPromptSummary(1, 0, 2),
                SystemPromptSummary.of(List.of(chat(1, "S", "q", "a"), chat(2, "S", "q2", "b")), quiet));
        assertEquals(0, quiet.warningCount());
    }

    @Test
    void tokenLengthsAndSequenceLimit() {
        List<Conversation> examples = List.of(
                chat(1, "one two three", "four"),
                chat(2, "a", "b"),
                new Conversation(List.of(Message.user("p q"), Message.assistant(" r")), new SourceLine(FILE, 3),
                        DatasetFormat.COMPLETION));
        IssueLog log = new IssueLog();
        // plain rendering: "user: one two three\nassistant: four\n" = 6 words; "user: a\nassistant: b\n" = 4;
        // completion is prompt + completion without roles: "p q r" = 3
        TokenLengths t = TokenLengths.of(examples, new WhitespaceTokenCounter(), ChatRenderer.plain(), 5, log);
        assertEquals(new LengthDistribution(3, 3, 4, 6, 6, 6, 13 / 3.0), t.distribution());
        assertEquals(1, t.overSequenceLength());
        assertEquals(List.of("1:over_sequence_length"), lineKinds(log));
        assertEquals("6 tokens (whitespace estimate) > sequence length 5; training drops, truncates or refuses it (excess_length_strategy)", log.warnings().getFirst().message());

        // a plugged-in renderer and counter are used as given
        TokenLengths custom = TokenLengths.of(examples.subList(0, 1), String::length, c -> "<" + c.messages().size() + ">", 100, new IssueLog());
        assertEquals(3, custom.distribution().max());
    }

    @Test
    void trainValidationOverlap() {
        Path val = Path.of("v.jsonl");
        List<Conversation> train = List.of(chat(1, "S", "Card lost!", "lost card"), chat(2, "S", "refund", "request refund"));
        List<Conversation> validation = List.of(
                new Conversation(chat(1, "S", "card lost", "lost card").messages(), new SourceLine(val, 1), DatasetFormat.CHAT),
                new Conversation(chat(2, "S", "refund", "other").messages(), new SourceLine(val, 2), DatasetFormat.CHAT),
                new Conversation(chat(3, "S", "new question", "lost card").messages(), new SourceLine(val, 3), DatasetFormat.CHAT));
        IssueLog log = new IssueLog();
        OverlapSummary o = OverlapScan.scan(train, validation, log);
        assertEquals(new OverlapSummary(3, 2, 1), o);
        assertEquals(2 / 3.0, o.fraction(), 1e-12);
        assertEquals("input also in train at t.jsonl:1 (same answer)", log.warnings().get(0).message());
        assertEquals("input also in train at t.jsonl:2 (different answer)", log.warnings().get(1).message());
    }
}
