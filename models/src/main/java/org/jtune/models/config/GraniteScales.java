package org.jtune.models.config;

/**
 * The four scalars by which IBM's Granite (GraniteForCausalLM) departs from Llama, as transformers' modeling_granite
 * applies them: the embeddings are multiplied by {@code embedding}, each layer adds its attention and MLP outputs times
 * {@code residual}, attention scores are q·k times {@code attention} (in place of 1/√head_dim), and the logits are
 * divided by {@code logits}. GraniteConfig's defaults are all 1.
 *
 * @param embedding embedding_multiplier
 * @param residual  residual_multiplier
 * @param attention attention_multiplier
 * @param logits    logits_scaling
 */
public record GraniteScales(double embedding, double residual, double attention, double logits) {
    public GraniteScales {
        check("embedding_multiplier", embedding);
        check("residual_multiplier", residual);
        check("attention_multiplier", attention);
        check("logits_scaling", logits);
    }

    private static void check(String field, double v) {
        if (!(v > 0) || Double.isInfinite(v)) throw new IllegalArgumentException(field + " must be a positive number, got " + v);
    }
}
