package org.jtune.train.data.augment;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.jtune.train.data.NearDuplicateIndex;
import org.jtune.train.data.NormalisedText;

/**
 * Cleans a generated paraphrase and decides whether it may go on the review sheet. Cleaning: the
 * first non-blank line (when the source is one line), without a leading "Rewritten message:" style
 * label and surrounding quotes. The checks, in order, each with its {@link Reason}: something other
 * than punctuation and spaces is left;
 * the length is within [max(3, minRatio × source), max(40, maxRatio × source)] characters; it is not
 * the source again; it is neither equal (after {@link NormalisedText}) nor a near duplicate ({@link
 * NearDuplicateIndex}) of a training input, nor of a validation or test input (leakage), nor of a
 * candidate already kept; and it does not name another label (a multi-word label, normalised, as a
 * phrase the source did not contain: a candidate that says its own answer teaches nothing). The
 * candidate's answer is always its source's answer (the label is kept).
 */
public final class CandidateFilter {
    /** Why a candidate was rejected; the JSON code is the lower-case name. */
    public enum Reason {
        EMPTY, TOO_SHORT, TOO_LONG, SAME_AS_SOURCE, DUPLICATE_OF_TRAINING, LEAKS_HOLDOUT, DUPLICATE_OF_CANDIDATE, MENTIONS_LABEL;

        public String code() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final Pattern LABEL_PREFIX = Pattern.compile(
            "^(?:rewritten message|rewritten|rewrite|paraphrased message|paraphrase|message|customer|answer|output)\\s*:\\s*",
            Pattern.CASE_INSENSITIVE);

    private final Set<String> training = new HashSet<>();
    private final Set<String> holdout = new HashSet<>();
    private final Set<String> kept = new HashSet<>();
    private final NearDuplicateIndex trainingIndex;
    private final NearDuplicateIndex holdoutIndex;
    private final NearDuplicateIndex keptIndex;
    private final List<String> labelPhrases = new ArrayList<>();
    private final double minRatio;
    private final double maxRatio;

    /**
     * @param trainingInputs inputs of the training file (raw text)
     * @param holdoutInputs  inputs of the validation and test files (raw text)
     * @param labels         the labels of the file (empty when not classification)
     * @param nearThreshold  shingle-Jaccard threshold of a near duplicate
     */
    public CandidateFilter(Collection<String> trainingInputs, Collection<String> holdoutInputs, Collection<String> labels,
                           double nearThreshold, double minRatio, double maxRatio) {
        this.trainingIndex = new NearDuplicateIndex(nearThreshold);
        this.holdoutIndex = new NearDuplicateIndex(nearThreshold);
        this.keptIndex = new NearDuplicateIndex(nearThreshold);
        this.minRatio = minRatio;
        this.maxRatio = maxRatio;
        for (String t : trainingInputs) if (training.add(NormalisedText.of(t))) trainingIndex.add(NormalisedText.of(t));
        for (String t : holdoutInputs) if (holdout.add(NormalisedText.of(t))) holdoutIndex.add(NormalisedText.of(t));
        for (String l : labels) {
            String phrase = NormalisedText.of(l);
            if (phrase.indexOf(' ') > 0) labelPhrases.add(phrase);
        }
    }

    /** The generated text made ready for review: first line, no label prefix, no surrounding quotes. */
    public static String clean(String generated, boolean sourceIsMultiline) {
        String s = generated == null ? "" : generated.strip();
        if (!sourceIsMultiline) {
            for (String line : s.split("\\R")) {
                if (!line.isBlank()) {
                    s = line.strip();
                    break;
                }
            }
        }
        s = LABEL_PREFIX.matcher(s).replaceFirst("").strip();
        if (s.length() >= 2) {
            char a = s.charAt(0);
            char b = s.charAt(s.length() - 1);
            if ((a == '"' && b == '"') || (a == '\'' && b == '\'') || (a == '\u201C' && b == '\u201D') || (a == '\u00AB' && b == '\u00BB')) {
                s = s.substring(1, s.length() - 1).strip();
            }
        }
        return s;
    }

    /** Why {@code candidate} (cleaned) may not be kept, or empty when it may. Does not remember it. */
    public Optional<Reason> check(String candidate, String sourceInput) {
        String key = NormalisedText.of(candidate);
        if (key.isEmpty()) return Optional.of(Reason.EMPTY);
        int len = candidate.length();
        int source = sourceInput.strip().length();
        if (len < Math.max(3, minRatio * source)) return Optional.of(Reason.TOO_SHORT);
        if (len > Math.max(40, maxRatio * source)) return Optional.of(Reason.TOO_LONG);
        String sourceKey = NormalisedText.of(sourceInput);
        if (key.equals(sourceKey)) return Optional.of(Reason.SAME_AS_SOURCE);
        if (training.contains(key) || !trainingIndex.matches(key).isEmpty()) return Optional.of(Reason.DUPLICATE_OF_TRAINING);
        if (holdout.contains(key) || !holdoutIndex.matches(key).isEmpty()) return Optional.of(Reason.LEAKS_HOLDOUT);
        if (kept.contains(key) || !keptIndex.matches(key).isEmpty()) return Optional.of(Reason.DUPLICATE_OF_CANDIDATE);
        String padded = " " + key + " ";
        String paddedSource = " " + sourceKey + " ";
        for (String phrase : labelPhrases) {
            String p = " " + phrase + " ";
            if (padded.contains(p) && !paddedSource.contains(p)) return Optional.of(Reason.MENTIONS_LABEL);
        }
        return Optional.empty();
    }

    /** Remembers a kept candidate, so that later ones may not repeat it. */
    public void keep(String candidate) {
        String key = NormalisedText.of(candidate);
        if (kept.add(key)) keptIndex.add(key);
    }
}
