package org.jtune.models.decoder;

import java.util.ArrayList;
import java.util.List;
import org.jtune.autograd.Embedding;
import org.jtune.autograd.IndexCopy;
import org.jtune.autograd.Linear;
import org.jtune.autograd.TrainableRows;
import org.jtune.autograd.Variable;
import org.jtune.models.lora.AdapterRouting;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraLinear;
import org.jtune.models.weights.Weight;
import org.jtune.tensor.Ops;
import org.jtune.tensor.Tensor;

/**
 * The two ends of a decoder that every family shares: the token embedding (with the trainable token
 * rows of the adapters routed to each row, PEFT's trainable_token_indices) and the output head
 * (lm_head, or the embedding table itself when tie_word_embeddings, in which case the trainable rows
 * also replace the matching logit columns). Per-sequence routing (a server's batch of requests for
 * different adapters) recomputes only the runs whose adapter trains token rows.
 */
public final class TokenEmbeddings {
    private final Weight embedTokens;  // (vocab, dim)
    private final LoraLinear lmHead;   // (vocab, dim); wraps embed_tokens when tied
    private final boolean tied;
    private final Adapters adapters;

    public TokenEmbeddings(Weight embedTokens, LoraLinear lmHead, boolean tied, Adapters adapters) {
        this.embedTokens = embedTokens;
        this.lmHead = lmHead;
        this.tied = tied;
        this.adapters = adapters;
    }

    /** Token embeddings (B, T, dim) of ids (B, T), with the routed adapters' trainable token rows. */
    public Variable embed(Tensor ids, AdapterRouting r) {
        Variable table = embedTokens.value();
        if (r.uniform() != null) {
            TrainableRows rows = adapters.tokens(r.uniform());
            return rows == null ? Embedding.apply(table, ids) : Embedding.apply(table, ids, rows);
        }
        Variable all = Embedding.apply(table, ids);
        Tensor flatIds = ids.reshape(-1);
        return perRun(null, all, r, (run, hs, es) -> Embedding.apply(table, flatIds.narrow(0, run.start(), run.length()).reshape(1, run.length()),
                adapters.tokens(List.of(run.adapter()))));
    }

    /** Logits (..., vocab) of final hidden states (..., dim). */
    public Variable logits(Variable hidden, AdapterRouting r) {
        Variable logits = lmHead.apply(hidden, AdapterRouting.BASE, null);
        if (!tied) return logits;
        if (r.uniform() != null) {
            TrainableRows rows = adapters.tokens(r.uniform());
            return rows == null ? logits : IndexCopy.lastDim(logits, rows.tokenIds(), Linear.apply(hidden, rows.values()));
        }
        return perRun(hidden, logits, r, (run, hs, ls) -> {
            TrainableRows rows = adapters.tokens(List.of(run.adapter()));
            return IndexCopy.lastDim(ls, rows.tokenIds(), Linear.apply(hs, rows.values()));
        });
    }

    /** Recomputes the rows of runs whose adapter trains token rows (inference with per-sequence adapters), leaving the others. */
    private interface RunRows {
        Variable apply(AdapterRouting.Run run, Variable hiddenRows, Variable baseRows);
    }

    private Variable perRun(Variable hidden, Variable base, AdapterRouting r, RunRows f) {
        boolean any = r.runs().stream().anyMatch(run -> run.adapter() != null && adapters.tokens(List.of(run.adapter())) != null);
        if (!any) return base;
        int[] shape = base.shape();
        int width = shape[shape.length - 1];
        Tensor flat = base.value().reshape(1, -1, width);
        List<Tensor> parts = new ArrayList<>();
        for (AdapterRouting.Run run : r.runs()) {
            Tensor rows = flat.narrow(1, run.start(), run.length());
            if (run.adapter() != null && adapters.tokens(List.of(run.adapter())) != null) {
                Variable hs = hidden == null ? null : Variable.constant(hidden.value().reshape(1, -1, hidden.size(-1)).narrow(1, run.start(), run.length()));
                rows = f.apply(run, hs, Variable.constant(rows)).value().reshape(1, run.length(), width);
            }
            parts.add(rows);
        }
        return Variable.constant(Ops.concat(parts, 1).reshape(shape));
    }
}
