package org.jtune.train.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.DatasetFormat;
import org.jtune.train.data.DatasetReader;
import org.jtune.train.data.Issue;
import org.jtune.train.data.IssueLog;
import org.jtune.train.data.TrainValidationSplit;
import org.jtune.train.prep.ChatEncoder;
import org.jtune.train.prep.TokenizedExample;
import org.jtune.train.recipe.DatasetSpec;
import org.jtune.train.recipe.RecipeConfig;

/**
 * The recipe's datasets, read and validated before any training starts (every malformed line is
 * reported with file:line and the run refuses to start), split into train and validation, and
 * balanced when the recipe asks (balance: oversample, on the training split only), and
 * encoded with the chat template. Examples longer than the sequence length are dropped and counted
 * (cutting them would cut off the answer the model is meant to learn).
 */
public record TrainingData(List<Conversation> trainConversations, List<Conversation> validationConversations,
                           List<TokenizedExample> train, List<TokenizedExample> validation, int droppedTooLong,
                           org.jtune.train.data.LabelBalance.Result balance) {

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
        List<Conversation> train = all;
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
        int[] dropped = {0};
        List<TokenizedExample> t = encode(train, encoder, recipe.sequenceLen(), dropped);
        List<TokenizedExample> v = encode(validation, encoder, recipe.sequenceLen(), dropped);
        if (t.isEmpty()) throw new JtuneException("every training example is longer than sequence_len " + recipe.sequenceLen());
        return new TrainingData(train, validation, t, v, dropped[0], balance);
    }

    private static List<Conversation> read(Path file, DatasetFormat format, IssueLog log) throws JtuneException {
        DatasetReader reader = format == null ? DatasetReader.detecting() : new DatasetReader(format, org.jtune.train.data.JsonlLineReader.DEFAULT_MAX_LINE_BYTES);
        return reader.read(file, log).examples();
    }

    private static DatasetFormat format(DatasetSpec.Type type) {
        return type == null ? null : DatasetFormat.valueOf(type.name());
    }

    private static List<TokenizedExample> encode(List<Conversation> items, ChatEncoder encoder, int maxLen, int[] dropped) throws JtuneException {
        List<TokenizedExample> out = new ArrayList<>();
        for (Conversation c : items) {
            TokenizedExample e = encoder.encode(c);
            if (e.length() > maxLen) dropped[0]++;
            else out.add(e);
        }
        return out;
    }
}
