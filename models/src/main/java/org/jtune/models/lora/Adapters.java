package org.jtune.models.lora;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.autograd.TrainableRows;

/**
 * The LoRA adapters loaded on one model, by name, as PEFT's PeftModel keeps them: several can be
 * loaded at once (each a set of {@link LoraPair}s on the model's projections, plus optional
 * trainable token rows), and some of them are active — the default routing of a forward pass. A
 * server routes each request to one of them instead ({@link AdapterRouting}). The base weights are
 * shared by all.
 */
public final class Adapters {
    /** PEFT's name for an adapter loaded without one. */
    public static final String DEFAULT = "default";

    /**
     * One loaded adapter.
     *
     * @param tokens trainable embedding rows (PEFT trainable_token_indices), or null
     * @param source where it came from (a folder, or "new" for a freshly attached one)
     */
    public record Info(String name, LoraConfig config, TrainableRows tokens, String source) {}

    private final List<LoraLinear> projections;
    private final Map<String, Info> loaded = new LinkedHashMap<>();
    private List<String> active = List.of();

    public Adapters(List<LoraLinear> projections) {
        this.projections = List.copyOf(projections);
    }

    /**
     * Registers adapter {@code info.name()} with its pairs (projection weight name → pair) and makes
     * it the only active one. A name already loaded is an error (remove it first).
     */
    public void add(Info info, Map<String, LoraPair> pairs) {
        if (loaded.containsKey(info.name())) throw new IllegalArgumentException("an adapter named " + info.name() + " is already loaded");
        Map<String, LoraLinear> byName = new LinkedHashMap<>();
        for (LoraLinear p : projections) byName.put(p.name(), p);
        for (String w : pairs.keySet()) {
            if (!byName.containsKey(w)) throw new IllegalArgumentException("adapter " + info.name() + ": the model has no projection " + w);
        }
        for (var e : pairs.entrySet()) byName.get(e.getKey()).putAdapter(info.name(), e.getValue());
        loaded.put(info.name(), info);
        active = List.of(info.name());
    }

    /** Unloads an adapter (it stops being active). */
    public void remove(String name) {
        require(name);
        for (LoraLinear p : projections) p.removeAdapter(name);
        loaded.remove(name);
        List<String> a = new ArrayList<>(active);
        a.remove(name);
        active = List.copyOf(a);
    }

    /** Unloads every adapter: the model is the base model again. */
    public void clear() {
        for (String n : List.copyOf(loaded.keySet())) remove(n);
    }

    /** The adapters applied when a forward pass does not route explicitly (empty: the base model). */
    public void setActive(List<String> names) {
        for (String n : names) require(n);
        active = List.copyOf(names);
    }

    public List<String> active() {
        return active;
    }

    public Info get(String name) {
        return require(name);
    }

    public boolean contains(String name) {
        return loaded.containsKey(name);
    }

    public List<String> names() {
        return List.copyOf(loaded.keySet());
    }

    public boolean isEmpty() {
        return loaded.isEmpty();
    }

    /** Adapter {@code name}'s pairs by projection weight name. */
    public Map<String, LoraPair> pairs(String name) {
        require(name);
        Map<String, LoraPair> m = new LinkedHashMap<>();
        for (LoraLinear p : projections) {
            LoraPair pair = p.adapter(name);
            if (pair != null) m.put(p.name(), pair);
        }
        return Collections.unmodifiableMap(m);
    }

    /**
     * The trainable token rows that apply to a forward routed uniformly over {@code names}: those of
     * the one adapter among them that has rows, or null. Two adapters with rows cannot be active together.
     */
    public TrainableRows tokens(List<String> names) {
        TrainableRows rows = null;
        String owner = null;
        for (String n : names) {
            Info i = loaded.get(n);
            if (i == null || i.tokens() == null) continue;
            if (rows != null) throw new IllegalStateException("adapters " + owner + " and " + n + " both train token rows; activate one of them");
            rows = i.tokens();
            owner = n;
        }
        return rows;
    }

    private Info require(String name) {
        Info i = loaded.get(name);
        if (i == null) {
            throw new IllegalArgumentException("no adapter named " + name + (loaded.isEmpty() ? " (none is loaded)" : " (loaded: "
                    + String.join(", ", loaded.keySet()) + ")"));
        }
        return i;
    }
}
