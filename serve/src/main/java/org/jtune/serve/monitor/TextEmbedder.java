package org.jtune.serve.monitor;

import java.util.List;
import org.jtune.JtuneException;

/** Turns prompts into fixed-size vectors for the embedding drift checks. */
@FunctionalInterface
public interface TextEmbedder {
    float[][] embed(List<String> texts) throws JtuneException;
}
