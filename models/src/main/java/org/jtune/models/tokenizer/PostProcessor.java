package org.jtune.models.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The "post_processor" of tokenizer.json, applied when special tokens are requested: wraps the encoded
 * text in the template's special tokens (Llama 2's {@code <s> $A}, BERT's {@code [CLS] $A [SEP]}).
 * Only single sequences are encoded here (no pairs).
 */
sealed interface PostProcessor {

    /** Appends the processed sequence (ids, and tokens when not null) to out / outTokens. */
    void apply(int[] ids, List<String> tokens, IntArrayBuilder out, List<String> outTokens);

    /** One element of a template: special tokens, or the encoded text itself. */
    record Piece(int[] ids, List<String> tokens) {
        static final Piece SEQUENCE = new Piece(null, null);

        boolean isSequence() {
            return ids == null;
        }
    }

    record Template(List<Piece> single) implements PostProcessor {
        public void apply(int[] ids, List<String> tokens, IntArrayBuilder out, List<String> outTokens) {
            for (Piece p : single) {
                if (p.isSequence()) {
                    out.addAll(ids);
                    if (outTokens != null) outTokens.addAll(tokens);
                } else {
                    out.addAll(p.ids());
                    if (outTokens != null) outTokens.addAll(p.tokens());
                }
            }
        }
    }

    /** BertProcessing / RobertaProcessing on a single sequence: cls, the text, sep. */
    record Surround(int clsId, String cls, int sepId, String sep) implements PostProcessor {
        public void apply(int[] ids, List<String> tokens, IntArrayBuilder out, List<String> outTokens) {
            new Template(List.of(new Piece(new int[] {clsId}, List.of(cls)), Piece.SEQUENCE,
                    new Piece(new int[] {sepId}, List.of(sep)))).apply(ids, tokens, out, outTokens);
        }
    }

    /** ByteLevel post-processing only trims offsets, which are not tracked here: ids pass unchanged. */
    record Identity() implements PostProcessor {
        public void apply(int[] ids, List<String> tokens, IntArrayBuilder out, List<String> outTokens) {
            out.addAll(ids);
            if (outTokens != null) outTokens.addAll(tokens);
        }
    }

    record Sequence(List<PostProcessor> steps) implements PostProcessor {
        public void apply(int[] ids, List<String> tokens, IntArrayBuilder out, List<String> outTokens) {
            for (PostProcessor step : steps) {
                IntArrayBuilder next = new IntArrayBuilder(ids.length + 4);
                List<String> nextTokens = tokens == null ? null : new ArrayList<>();
                step.apply(ids, tokens, next, nextTokens);
                ids = next.toArray();
                tokens = nextTokens;
            }
            out.addAll(ids);
            if (outTokens != null) outTokens.addAll(tokens);
        }
    }
}
