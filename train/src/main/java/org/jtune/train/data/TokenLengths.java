package org.jtune.train.data;

import org.jtune.models.chat.Message;
import java.util.List;

/**
 * Token lengths of the examples of one file, as the model would see them: a chat example rendered by
 * the {@link ChatRenderer}, completion data as prompt followed by completion; each counted by the
 * {@link TokenCounter}. Examples longer than the sequence length are warned about (they would be
 * truncated) and counted.
 */
public record TokenLengths(String counter, LengthDistribution distribution, int sequenceLength, long overSequenceLength) {

    public static TokenLengths of(List<Conversation> examples, TokenCounter counter, ChatRenderer renderer,
                                  int sequenceLength, IssueLog log) {
        long[] lengths = new long[examples.size()];
        long over = 0;
        for (int i = 0; i < lengths.length; i++) {
            Conversation c = examples.get(i);
            lengths[i] = counter.count(textOf(c, renderer));
            if (lengths[i] > sequenceLength) {
                over++;
                log.add(Issue.at(IssueKind.OVER_SEQUENCE_LENGTH, c.source(), lengths[i] + " tokens (" + counter.name()
                        + ") > sequence length " + sequenceLength + "; it would be truncated"));
            }
        }
        return new TokenLengths(counter.name(), LengthDistribution.of(lengths), sequenceLength, over);
    }

    /** The text a trainer feeds the model for this example. */
    static String textOf(Conversation c, ChatRenderer renderer) {
        if (!c.isCompletion()) return renderer.render(c.messages());
        StringBuilder sb = new StringBuilder();
        for (Message m : c.messages()) sb.append(m.content());
        return sb.toString();
    }
}
