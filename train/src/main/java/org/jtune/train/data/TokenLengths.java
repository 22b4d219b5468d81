package org.jtune.train.data;

import org.jtune.models.chat.Message;
import java.util.List;

/**
 * Token lengths of the examples of one file, as the model would see them: a chat example rendered by
 * the {@link ChatRenderer}, completion data as prompt followed by completion; each counted by the
 * {@link TokenCounter}. Examples longer than the sequence length (when one is given, > 0) are warned
 * about (training drops, truncates or refuses them, as the recipe's excess_length_strategy says) and counted.
 */
public record TokenLengths(String counter, LengthDistribution distribution, int sequenceLength, long overSequenceLength) {

    public static TokenLengths of(List<Conversation> examples, TokenCounter counter, ChatRenderer renderer,
                                  int sequenceLength, IssueLog log) {
        long[] lengths = new long[examples.size()];
        long over = 0;
        for (int i = 0; i < lengths.length; i++) {
            Conversation c = examples.get(i);
            lengths[i] = counter.count(textOf(c, renderer));
            if (sequenceLength > 0 && lengths[i] > sequenceLength) {
                over++;
                log.add(Issue.at(IssueKind.OVER_SEQUENCE_LENGTH, c.source(), lengths[i] + " tokens (" + counter.name()
                        + ") > sequence length " + sequenceLength + "; training drops, truncates or refuses it (excess_length_strategy)"));
            }
        }
        return new TokenLengths(counter.name(), LengthDistribution.of(lengths), sequenceLength, over);
    }

    /** The text a trainer feeds the model for this example. */
    static String textOf(Conversation c, ChatRenderer renderer) {
        if (!c.isCompletion()) return renderer.render(c);
        StringBuilder sb = new StringBuilder();
        for (Message m : c.messages()) sb.append(m.content());
        return sb.toString();
    }
}
