package org.jtune.train.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DatasetFormat;
import org.jtune.train.data.DatasetReader;
import org.jtune.train.data.Issue;
import org.jtune.train.data.SourceLine;
import org.jtune.train.data.IssueLog;
import org.jtune.train.data.TrainValidationSplit;
import org.jtune.train.prep.ChatEncoder;
import org.jtune.train.prep.TokenizedExample;
import org.jtune.train.prep.Truncation;
import org.jtune.train.recipe.DatasetSpec;
import org.jtune.train.recipe.RecipeConfig;

/**
 * The examples of a run, read and validated before any training starts (every malformed line is
 * reported with file:line and the run refuses to start), split into train and validation, and
 * balanced when the recipe asks (balance: oversample, on the training split only), and encoded with
 * the chat template. They come from the recipe's dataset files, or from conversations given in memory
 * (a library run). Examples longer than sequence_len are handled as the recipe's excess_length_strategy
 * says (see {@link RecipeConfig.ExcessLength}): dropped and counted, truncated and counted, or an error
 * naming them.
 *
 * @param droppedTooLong examples dropped for their length (drop), or cut to sequence_len (truncate)
 */
public record TrainingData(List<Conversation> trainConversations, List<Conversation> validationConversations,
                           List<TokenizedExample> train, List<TokenizedExample> validation, int droppedTooLong,
                           org.jtune.train.data.LabelBalance.Result balance) {

    /** The recipe's datasets (and validation_path). */
    public static TrainingData load(RecipeConfig recipe, ChatEncoder encoder) throws JtuneException {
        IssueLog log = new IssueLog();
        List<Conversation> all = new ArrayList<>();
        for (DatasetSpec spec : recipe.datasets()) all.addAll(read(spec.path(), format(spec.type()), log));
        List<Conversation> validation = new ArrayList<>();
        if (recipe.validationPath() != null) validation.addAll(read(recipe.validationPath(), null, log));
        if (log.errorCount() > 0) {
            StringBuilder sb = new StringBuilder(log.errorCount() + " error(s) in the training data; nothing was trained:");
            int shown = 0;
            for (Issue i : log.errors()) {
                if (shown++ == 20) break;
                sb.append("\n  ").append(i);
            }
            throw new JtuneException(sb.append("\nRun `jtune data check --data FILE` for the full report.").toString());
        }
        if (all.isEmpty()) throw new JtuneException("the recipe's datasets hold no examples");
        return of(recipe, encoder, all, validation);
    }

    /**
     * Conversations given in memory (validation: empty for none, or a split by val_set_size). Each must end
     * with an assistant answer; messages name them "examples:N" (N from 1).
     */
    public static TrainingData inMemory(RecipeConfig recipe, ChatEncoder encoder, List<Conversation> train,
                                        List<Conversation> validation) throws JtuneException {
        if (train.isEmpty()) throw new JtuneException("no training examples were given");
        return of(recipe, encoder, located(train, "examples"), located(validation, "validation examples"));
    }

    private static List<Conversation> located(List<Conversation> items, String name) throws JtuneException {
        List<Conversation> out = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            Conversation c = items.get(i);
            SourceLine where = new SourceLine(Path.of(name), i + 1);
            if (c.lastAssistantIndex() < 0) throw new JtuneException(where + ": no assistant message to learn");
            out.add(new Conversation(c.messages(), where, c.format()));
        }
        return out;
    }

    private static TrainingData of(RecipeConfig recipe, ChatEncoder encoder, List<Conversation> all, List<Conversation> validation)
            throws JtuneException {
        List<Conversation> train = all;
        validation = new ArrayList<>(validation);
        if (validation.isEmpty() && recipe.valSetSize() > 0) {
            double fraction = recipe.valSetSize() < 1 ? recipe.valSetSize() : recipe.valSetSize() / all.size();
            TrainValidationSplit<Conversation> split = TrainValidationSplit.random(all, fraction, recipe.seed());
            train = split.train();
            validation = new ArrayList<>(split.validation());
        }
        var balance = recipe.balance() == RecipeConfig.Balance.OVERSAMPLE
                ? org.jtune.train.data.LabelBalance.oversample(train, recipe.balanceMaxRatio(), recipe.seed())
                : org.jtune.train.data.LabelBalance.none(train);
        train = balance.examples();
        List<String> tooLong = new ArrayList<>();
        List<TokenizedExample> t = encode(train, encoder, recipe, tooLong);
        List<TokenizedExample> v = encode(validation, encoder, recipe, tooLong);
        if (recipe.excessLengthStrategy() == RecipeConfig.ExcessLength.ERROR && !tooLong.isEmpty()) {
            throw new JtuneException(tooLong.size() + " example(s) longer than sequence_len " + recipe.sequenceLen() + ": "
                    + String.join("; ", tooLong.subList(0, Math.min(5, tooLong.size())))
                    + (tooLong.size() > 5 ? "; ..." : "") + ". Raise sequence_len, or set excess_length_strategy to drop or truncate");
        }
        if (t.isEmpty()) throw new JtuneException("every training example is longer than sequence_len " + recipe.sequenceLen());
        return new TrainingData(train, validation, t, v, tooLong.size(), balance);
    }

    private static List<Conversation> read(Path file, DatasetFormat format, IssueLog log) throws JtuneException {
        DatasetReader reader = format == null ? DatasetReader.detecting() : new DatasetReader(format, org.jtune.train.data.JsonlLineReader.DEFAULT_MAX_LINE_BYTES);
        return reader.read(file, log).examples();
    }

    private static DatasetFormat format(DatasetSpec.Type type) {
        return type == null ? null : DatasetFormat.valueOf(type.name());
    }

    private static List<TokenizedExample> encode(List<Conversation> items, ChatEncoder encoder, RecipeConfig recipe,
                                                 List<String> tooLong) throws JtuneException {
        int maxLen = recipe.sequenceLen();
        List<TokenizedExample> out = new ArrayList<>();
        for (Conversation c : items) {
            TokenizedExample e = encoder.encode(c);
            if (e.length() <= maxLen) {
                out.add(e);
                continue;
            }
            tooLong.add(e.source() + " (" + e.length() + " tokens)");
            if (recipe.excessLengthStrategy() == RecipeConfig.ExcessLength.TRUNCATE) {
                TokenizedExample cut = Truncation.keepAnswer(e, maxLen);
                if (cut.trainedTokens() > 0) out.add(cut);
            }
        }
        return out;
    }
}
