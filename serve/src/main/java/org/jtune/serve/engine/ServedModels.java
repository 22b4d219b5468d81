package org.jtune.serve.engine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.weights.ServingLayout;

/**
 * The models an engine serves by name: one base model, and LoRA adapters (PEFT folders) loaded onto
 * it by name, sharing its weights. A request names the base (no adapter) or an adapter; no adapter is
 * active by default, so a batch can route each sequence to its own.
 */
public final class ServedModels implements AutoCloseable {
    private final String baseName;
    private final CausalLM model;

    private ServedModels(String baseName, CausalLM model) {
        this.baseName = baseName;
        this.model = model;
    }

    /**
     * Loads the base model folder and every adapter folder; F32 and BF16 projections take the serving layout
     * ({@link ServingLayout}), in which a batch of sequences multiplies faster.
     *
     * @param baseName the name clients send as "model" for the base
     * @param adapters adapter name → PEFT adapter folder, in the order /v1/models lists them
     */
    public static ServedModels load(Path baseDir, String baseName, Map<String, Path> adapters) throws JtuneException {
        CausalLM model = Architectures.load(baseDir);
        try {
            ServingLayout.packProjections(model.weights());
            for (var e : adapters.entrySet()) {
                if (e.getKey().equals(baseName) || model.adapters().contains(e.getKey())) {
                    throw new JtuneException("adapter name \"" + e.getKey() + "\" is used twice (or is the base model's name)");
                }
                try {
                    PeftFormat.load(e.getValue(), model, e.getKey());
                } catch (JtuneException ex) {
                    throw new JtuneException("adapter " + e.getKey() + " (" + e.getValue() + "): " + ex.getMessage(), ex);
                }
            }
            model.adapters().setActive(List.of());
            return new ServedModels(baseName, model);
        } catch (JtuneException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** A model already in memory (tests, embedding) with the adapters it has loaded. */
    public static ServedModels of(String baseName, CausalLM model) {
        model.adapters().setActive(List.of());
        return new ServedModels(baseName, model);
    }

    public String baseName() {
        return baseName;
    }

    /** The base name first, then the adapters. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        names.add(baseName);
        names.addAll(model.adapters().names());
        return names;
    }

    public boolean serves(String name) {
        return name.equals(baseName) || model.adapters().contains(name);
    }

    /** The adapter a served name routes to: null for the base model. */
    public String adapterOf(String name) {
        return name.equals(baseName) ? null : name;
    }

    public CausalLM model() {
        return model;
    }

    @Override
    public void close() {
        model.close();
    }
}
