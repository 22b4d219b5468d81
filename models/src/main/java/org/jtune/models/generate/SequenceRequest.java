package org.jtune.models.generate;

/**
 * What a caller asks a {@link StepEngine} to generate.
 *
 * @param prompt       the prompt ids (at least one, e.g. BOS)
 * @param sampling     token choice, token limit, stop ids and stop strings
 * @param adapter      the LoRA adapter to generate with (loaded on the model), or null for the base model
 * @param decoder      turns generated ids into text for stop strings, or null when there are none
 * @param keepLogits   hand each step's raw logit row to the listener (for logprobs)
 * @param promptLogits hand the listener the raw logit row before each prompt token after the first
 *                     ({@link Sequence.Listener#onPromptLogits}: the prompt's own log-probabilities, OpenAI's echo); the
 *                     prompt is then computed whole, never taken from cached prefix blocks
 */
public record SequenceRequest(int[] prompt, SamplingConfig sampling, String adapter, Decoder decoder, boolean keepLogits,
                              boolean promptLogits) {
    /** Turns generated ids into text. */
    @FunctionalInterface
    public interface Decoder {
        String decode(int[] ids);
    }

    public SequenceRequest {
        prompt = prompt.clone();
        if (prompt.length == 0) throw new IllegalArgumentException("empty prompt: a prompt needs at least one token (e.g. BOS)");
        if (!sampling.stopStrings().isEmpty() && decoder == null) {
            throw new IllegalArgumentException("stop strings need a decoder to turn ids into text");
        }
    }

    public SequenceRequest(int[] prompt, SamplingConfig sampling, String adapter, Decoder decoder, boolean keepLogits) {
        this(prompt, sampling, adapter, decoder, keepLogits, false);
    }

    public static SequenceRequest of(int[] prompt, SamplingConfig sampling) {
        return new SequenceRequest(prompt, sampling, null, null, false);
    }
}
