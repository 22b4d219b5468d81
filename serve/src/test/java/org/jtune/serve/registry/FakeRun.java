package org.jtune.serve.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.eval.Prediction;
import org.jtune.eval.run.ChatTestSet;

/**
 * A run folder written by hand (no training) for registry tests: config.yaml, metrics.jsonl, data
 * files, and an adapter whose file {@code quality} says what share of test examples it answers right;
 * {@link #PREDICTOR} reads that share (0.2 for the base model), so gates decide on real eval code.
 */
public final class FakeRun {
    private FakeRun() {}

    public static final String[] LABELS = {"billing", "network", "access"};

    /** Base model folder, shared by every run of a test. */
    public static Path base(Path root) throws IOException {
        Path base = root.resolve("base");
        Files.createDirectories(base);
        Files.writeString(base.resolve("config.json"), "{\"model_type\":\"llama\"}");
        Files.writeString(base.resolve("model.safetensors"), "weights of the base");
        return base;
    }

    public static Path data(Path root) throws IOException {
        Path data = root.resolve("data");
        Files.createDirectories(data);
        StringBuilder train = new StringBuilder(), test = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            String label = LABELS[i % 3];
            train.append(chat("training ticket " + i + " about " + label, label));
            test.append(chat("test ticket " + i + " about " + label, label));
        }
        Files.writeString(data.resolve("train.jsonl"), train);
        Files.writeString(data.resolve("test.jsonl"), test);
        return data;
    }

    static String chat(String user, String answer) {
        return "{\"messages\":[{\"role\":\"system\",\"content\":\"Route the ticket.\"},{\"role\":\"user\",\"content\":\"" + user
                + "\"},{\"role\":\"assistant\",\"content\":\"" + answer + "\"}]}\n";
    }

    /** A finished LoRA run whose adapter answers {@code quality} of the test set right. */
    public static Path run(Path root, String name, double quality, double lr) throws IOException {
        Path base = base(root);
        Path data = data(root);
        Path run = root.resolve("runs").resolve(name);
        Files.createDirectories(run.resolve("adapter"));
        Files.writeString(run.resolve("config.yaml"), """
                base_model: %s
                datasets:
                  - path: %s
                    type: chat
                adapter: lora
                lora_r: 8
                learning_rate: %s
                num_epochs: 2
                seed: 7
                """.formatted(base, data.resolve("train.jsonl"), lr));
        Files.writeString(run.resolve("metrics.jsonl"), """
                {"step":1,"epoch":0.5,"elapsed":1.0,"loss":2.5,"lr":0.001}
                {"step":2,"epoch":1.0,"elapsed":2.0,"loss":1.5,"lr":0.001,"val_loss":1.7,"val_accuracy":0.6}
                {"step":3,"epoch":1.5,"elapsed":3.0,"loss":1.2,"lr":0.001}
                {"step":4,"epoch":2.0,"elapsed":4.0,"loss":1.4,"lr":0.001,"val_loss":1.9,"val_accuracy":0.5}
                """);
        Files.writeString(run.resolve("adapter/adapter_config.json"), "{\"r\":8,\"base_model_name_or_path\":\"" + base + "\"}");
        Files.writeString(run.resolve("adapter/adapter_model.safetensors"), "adapter weights " + name);
        Files.writeString(run.resolve("adapter/quality"), Double.toString(quality));
        return run;
    }

    /** The first quality·n examples right, the rest wrong; the base model (no adapter) gets 0.2. */
    public static final Predictor PREDICTOR = (model, adapter, format, examples) -> {
        double q;
        try {
            q = adapter == null ? 0.2 : Double.parseDouble(Files.readString(adapter.resolve("quality")).strip());
        } catch (IOException e) {
            throw new JtuneException(e.getMessage(), e);
        }
        List<Prediction> out = new ArrayList<>();
        int right = (int) Math.round(q * examples.size());
        for (int i = 0; i < examples.size(); i++) {
            ChatTestSet.Example e = examples.get(i);
            String answer = i < right ? e.reference() : LABELS[(java.util.Arrays.asList(LABELS).indexOf(e.reference()) + 1) % 3];
            out.add(Prediction.of(e.id(), e.prompt().getLast().content(), e.reference(), answer));
        }
        return out;
    };
}
