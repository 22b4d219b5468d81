package org.jtune.train.data.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Each filter rule on its own, and the cleaning of generated text. */
class CandidateFilterTest {
    private final CandidateFilter filter = new CandidateFilter(
            List.of("My card has not arrived yet", "How do I top up by bank transfer?"),
            List.of("Why was I charged a fee for my transfer?"),
            List.of("card_arrival", "transfer fee charged", "top_up"), 0.8, 0.3, 3);

    private Optional<CandidateFilter.Reason> check(String candidate) {
        return filter.check(candidate, "My card has not arrived yet");
    }

    @Test
    void eachRuleRejectsWhatItShould() {
        assertEquals(Optional.of(CandidateFilter.Reason.EMPTY), check(" "));
        assertEquals(Optional.of(CandidateFilter.Reason.EMPTY), check("?!"));
        assertEquals(Optional.of(CandidateFilter.Reason.TOO_SHORT), check("card"));
        assertEquals(Optional.of(CandidateFilter.Reason.TOO_LONG), check("x".repeat(200)));
        assertEquals(Optional.of(CandidateFilter.Reason.SAME_AS_SOURCE), check("my card has NOT arrived yet!"));
        assertEquals(Optional.of(CandidateFilter.Reason.DUPLICATE_OF_TRAINING), check("How do I top up by bank transfer"));
        assertEquals(Optional.of(CandidateFilter.Reason.DUPLICATE_OF_TRAINING), check("My card has not arrived yet, why"));
        assertEquals(Optional.of(CandidateFilter.Reason.LEAKS_HOLDOUT), check("why was i charged a fee for my transfer"));
        assertEquals(Optional.of(CandidateFilter.Reason.LEAKS_HOLDOUT), check("Why was I charged a fee for my transfers?"));
        assertEquals(Optional.of(CandidateFilter.Reason.MENTIONS_LABEL), check("Is this card arrival or transfer fee charged?"));
        assertEquals(Optional.empty(), check("Where is the card you sent me?"));
        filter.keep("Where is the card you sent me?");
        assertEquals(Optional.of(CandidateFilter.Reason.DUPLICATE_OF_CANDIDATE), check("where is the card you sent me"));
        assertEquals(Optional.empty(), check("Still no card in my mailbox."));
    }

    @Test
    void cleaningTakesTheFirstLineWithoutLabelOrQuotes() {
        assertEquals("Where is my card?", CandidateFilter.clean("\n  Rewritten message: \"Where is my card?\"\nMessage: more", false));
        assertEquals("a\nb", CandidateFilter.clean("a\nb", true));
        assertEquals("It's mine", CandidateFilter.clean("'It's mine'", false));
        assertEquals("", CandidateFilter.clean(null, false));
    }
}
