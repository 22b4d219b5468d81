package org.jtune.models.generate;

import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;

/**
 * Generation for a fixed list of prompts, as a loop over a {@link StepEngine}: every prompt joins at
 * once, the engine steps until all have stopped (a stop id, a stop string, or the token limit), and
 * the results come back in prompt order. Each sequence has its own positions and KV cache, so a
 * prompt gives the same tokens alone or in a batch; sequence s samples with seed + s.
 */
public final class Generator {
    /**
     * @param promptIds the prompt
     * @param outputIds generated ids, including the stop id that ended it (if any)
     * @param text      decoded output (stop string removed), or null without a decoder
     */
    public record Result(int[] promptIds, int[] outputIds, String text, Sequence.Finish finish) {}

    /** Called for each generated token of each sequence, in order (streaming). */
    @FunctionalInterface
    public interface TokenListener {
        void onToken(int sequence, int tokenId);
    }

    private Generator() {}

    /** Generates for every prompt with the model's active adapters; {@code decoder} may be null when no text is needed. */
    public static List<Result> generate(CausalLM model, List<int[]> prompts, SamplingConfig config,
                                        SequenceRequest.Decoder decoder, TokenListener listener) throws JtuneException {
        if (prompts.isEmpty()) return List.of();
        List<String> active = model.adapters().active();
        if (active.size() > 1) throw new JtuneException("generation runs one adapter at a time; active: " + active);
        String adapter = active.isEmpty() ? null : active.getFirst();
        StepEngine engine = new StepEngine(model, new StepEngine.Limits(prompts.size(), StepEngine.Limits.DEFAULT.maxStepTokens()));
        List<Sequence> sequences = new ArrayList<>();
        try {
            for (int s = 0; s < prompts.size(); s++) {
                int index = s;
                Sequence.Listener l = listener == null ? null : (seq, tok, logits) -> listener.onToken(index, tok);
                sequences.add(engine.add(new SequenceRequest(prompts.get(s), config.withSeed(config.seed() + s), adapter,
                        config.stopStrings().isEmpty() ? null : decoder, false), l));
            }
        } catch (IllegalArgumentException e) {
            throw new JtuneException(e.getMessage(), e);
        }
        while (!engine.idle()) engine.step();
        List<Result> results = new ArrayList<>();
        for (Sequence s : sequences) {
            int[] out = s.outputIds();
            String text = s.stopText() != null ? s.stopText() : decoder != null ? decoder.decode(out) : null;
            results.add(new Result(s.request().prompt(), out, text, s.finish()));
        }
        return results;
    }
}
