package org.jtune.serve.engine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.llama.LlamaModel;
import org.jtune.models.lora.PeftFormat;

/**
 * The models an engine serves by name: the base model, and for each LoRA adapter (a PEFT folder) its
 * own model instance over the same memory-mapped base weights with that adapter attached. One instance
 * per adapter is the simple way while a LoRA layer holds a single adapter; the step engine of the
 * models module replaces it with named adapters on one shared base.
 */
public final class ServedModels implements AutoCloseable {
    private final String baseName;
    private final Map<String, LlamaModel> byName;

    private ServedModels(String baseName, Map<String, LlamaModel> byName) {
        this.baseName = baseName;
        this.byName = Collections.unmodifiableMap(byName);
    }

    /**
     * Loads the base model folder and every adapter folder.
     *
     * @param baseName the name clients send as "model" for the base
     * @param adapters adapter name → PEFT adapter folder, in the order /v1/models lists them
     */
    public static ServedModels load(Path baseDir, String baseName, Map<String, Path> adapters) throws JtuneException {
        Map<String, LlamaModel> models = new LinkedHashMap<>();
        try {
            models.put(baseName, LlamaModel.load(baseDir));
            for (var e : adapters.entrySet()) {
                if (models.containsKey(e.getKey())) {
                    throw new JtuneException("adapter name \"" + e.getKey() + "\" is used twice (or is the base model's name)");
                }
                LlamaModel m = LlamaModel.load(baseDir);
                models.put(e.getKey(), m);
                try {
                    PeftFormat.load(e.getValue(), m);
                } catch (JtuneException ex) {
                    throw new JtuneException("adapter " + e.getKey() + " (" + e.getValue() + "): " + ex.getMessage(), ex);
                }
            }
            return new ServedModels(baseName, models);
        } catch (JtuneException | RuntimeException e) {
            closeAll(models.values());
            throw e;
        }
    }

    /** Models already in memory (tests, embedding): the first entry is the base. */
    public static ServedModels of(Map<String, LlamaModel> models) {
        if (models.isEmpty()) throw new IllegalArgumentException("no model to serve");
        return new ServedModels(models.keySet().iterator().next(), new LinkedHashMap<>(models));
    }

    public String baseName() {
        return baseName;
    }

    /** The base name first, then the adapters. */
    public List<String> names() {
        return new ArrayList<>(byName.keySet());
    }

    /** The model of that name, or null. */
    public LlamaModel get(String name) {
        return byName.get(name);
    }

    public LlamaModel base() {
        return byName.get(baseName);
    }

    @Override
    public void close() {
        closeAll(byName.values());
    }

    private static void closeAll(Iterable<LlamaModel> models) {
        for (LlamaModel m : models) {
            try {
                m.close();
            } catch (Exception ignored) {
                // closing a memory map; nothing to recover
            }
        }
    }
}
