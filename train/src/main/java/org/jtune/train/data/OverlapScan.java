package org.jtune.train.data;

import org.jtune.models.chat.Message;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Leakage between a train and a validation file: a validation example whose input (everything before
 * the final answer; the whole text for plain-text data), after {@link NormalisedText}, also occurs in
 * train measures memorisation, not generalisation. One warning per such validation line, naming the
 * train line.
 */
public final class OverlapScan {
    private OverlapScan() {}

    public static OverlapSummary scan(List<Conversation> train, List<Conversation> validation, IssueLog log) {
        NormalisedText.Keys keys = new NormalisedText.Keys();
        Map<List<String>, Conversation> trainInputs = new HashMap<>();
        for (Conversation c : train) trainInputs.putIfAbsent(key(c, keys), c);
        long overlapping = 0;
        long sameAnswer = 0;
        for (Conversation v : validation) {
            Conversation t = trainInputs.get(key(v, keys));
            if (t == null) continue;
            overlapping++;
            boolean same = NormalisedText.of(t.finalAnswer().orElse("")).equals(NormalisedText.of(v.finalAnswer().orElse("")));
            if (same) sameAnswer++;
            log.add(Issue.at(IssueKind.TRAIN_VALIDATION_OVERLAP, v.source(), "input also in train at " + t.source()
                    + (same ? " (same answer)" : " (different answer)")));
        }
        return new OverlapSummary(validation.size(), overlapping, sameAnswer);
    }

    private static List<String> key(Conversation c, NormalisedText.Keys keys) {
        List<Message> input = c.input();
        return keys.of(input.isEmpty() ? c.messages() : input);
    }
}
