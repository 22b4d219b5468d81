package org.jtune.train.recipe;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A training recipe: one flat record, read from YAML by {@link RecipeReader} with keys close to
 * Axolotl's (the snake_case of each component name). Every default lives in {@link Builder} with
 * the reason for it. Paths are absolute (relative ones were resolved against the recipe's folder).
 * Nullable components (boxed types, strings, paths) mean "not set"; see each accessor's note.
 * {@link #toYaml()} writes the fully resolved recipe, which reads back to an equal record.
 */
public record RecipeConfig(
        Path baseModel,
        List<DatasetSpec> datasets,
        String chatTemplate,
        String systemMessage, // null: keep the data's system messages
        boolean dropSystemMessage,
        double valSetSize,
        Path validationPath, // null: validation comes from val_set_size, if any
        int sequenceLen,
        ExcessLength excessLengthStrategy,
        boolean samplePacking,
        boolean trainOnInputs,
        Adapter adapter,
        int loraR,
        double loraAlpha,
        double loraDropout,
        List<String> loraTargetModules,
        boolean useRslora,
        boolean peftUseDora, // DoRA: a trained magnitude per output row of each adapted projection
        Double loraplusLrRatio, // null: LoRA's B matrices learn at learning_rate like the rest
        Double neftuneNoiseAlpha, // null: no noise on the training embeddings
        TokenIndices trainableTokenIndices,
        boolean initNewTokensFromMean,
        double learningRate,
        Scheduler lrScheduler,
        Integer warmupSteps, // null: use warmup_ratio
        Double warmupRatio, // null when warmup_steps is set
        double cosineMinLrRatio,
        int numEpochs,
        Integer maxSteps, // null: num_epochs decides
        int microBatchSize,
        int gradientAccumulationSteps,
        OptimizerKind optimizer,
        double weightDecay,
        double adamBeta1,
        double adamBeta2,
        double adamEpsilon,
        double sgdMomentum,
        double maxGradNorm,
        boolean gradientCheckpointing,
        Integer evalSteps, // null: evaluate at the end of each epoch
        Integer saveSteps, // null: save at the end of each epoch
        Integer saveTotalLimit, // null: keep every checkpoint
        Integer earlyStoppingPatience, // null: no early stopping
        boolean evalAccuracy,
        long seed,
        Path outputDir,
        int loggingSteps,
        String mlflowTrackingUri, // null: no MLflow logging
        String mlflowExperimentName,
        Integer threads, // null: all cores
        String device, // null: cpu; else opencl[:N] or cuda[:N]
        Balance balance,
        double balanceMaxRatio,
        boolean loadIn4bit,
        String bnb4bitQuantType,
        boolean bnb4bitUseDoubleQuant,
        String bnb4bitComputeDtype) {

    /** LoRA on the base as stored, QLoRA (LoRA on the base quantized to 4-bit NF4, frozen), or full fine-tuning. */
    public enum Adapter {
        LORA, QLORA, FULL;

        /** Whether this trains LoRA adapters (LoRA or QLoRA) rather than the weights themselves. */
        public boolean isLora() {
            return this != FULL;
        }
    }

    /** bnb_4bit_compute_dtype values Axolotl/transformers accept; jtune's arithmetic is float32 whichever is named. */
    public static final Set<String> COMPUTE_DTYPES = Set.of("float32", "bfloat16", "float16");

    /**
     * What training does with an example longer than sequence_len: DROP it (counted and reported), TRUNCATE
     * it to sequence_len (the last assistant answer is kept whole when it fits: the oldest prompt tokens go
     * first; when the answer alone is longer, half the window is prompt and the answer is cut at its end), or
     * stop with an ERROR naming the examples.
     */
    public enum ExcessLength { DROP, TRUNCATE, ERROR }

    public enum Scheduler { COSINE, LINEAR, CONSTANT }

    public enum OptimizerKind { ADAMW, SGD }

    /** Label balancing of the training split: none, or oversampling of rare labels (see LabelBalance). */
    public enum Balance { NONE, OVERSAMPLE }

    /** Built-in chat template names; anything else must be a Jinja template string. */
    public static final Set<String> CHAT_TEMPLATE_NAMES = Set.of("tokenizer_default", "chatml", "llama2", "llama3", "mistral");

    /** The lora_target_modules value that selects every linear layer of the transformer blocks. */
    public static final String ALL_LINEAR = "all-linear";

    public RecipeConfig {
        datasets = List.copyOf(datasets);
        loraTargetModules = List.copyOf(loraTargetModules);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this record's values, to change a few. */
    public Builder toBuilder() {
        Builder b = new Builder();
        for (var c : RecipeConfig.class.getRecordComponents()) {
            try {
                Builder.class.getDeclaredField(c.getName()).set(b, c.getAccessor().invoke(this));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("builder field for " + c.getName(), e);
            }
        }
        return b;
    }

    /** True when lora_target_modules is "all-linear". */
    public boolean allLinearTargets() {
        return loraTargetModules.equals(List.of(ALL_LINEAR));
    }

    /** What training does to the data's system messages: null keeps them, "" drops them, else replaces them by this one. */
    public String systemMessageOverride() {
        return dropSystemMessage ? "" : systemMessage;
    }

    /** Sequences per optimizer step. */
    public int effectiveBatchSize() {
        return microBatchSize * gradientAccumulationSteps;
    }

    /** Optimizer steps of the run: max_steps when set, else num_epochs × steps per epoch. */
    public long totalSteps(long stepsPerEpoch) {
        return maxSteps != null ? maxSteps : numEpochs * stepsPerEpoch;
    }

    /** Warmup steps: warmup_steps when set, else ⌈total × warmup_ratio⌉ (transformers' rounding). */
    public long warmupSteps(long totalSteps) {
        if (warmupSteps != null) return warmupSteps;
        return warmupRatio == null ? 0 : (long) Math.ceil(totalSteps * warmupRatio);
    }

    /** True when there is a validation set to evaluate on. */
    public boolean hasValidation() {
        return validationPath != null || valSetSize > 0;
    }

    /** LoRA scaling: alpha / r, or alpha / √r with rsLoRA (Kalajdzievski 2023). */
    public double loraScale() {
        return useRslora ? loraAlpha / Math.sqrt(loraR) : loraAlpha / loraR;
    }

    /** The resolved recipe as YAML (every key, absolute paths), for the copy kept in the run folder. */
    public String toYaml() {
        return RecipeYamlWriter.write(this);
    }

    /**
     * The YAML key of a record component: its name in snake_case; a digit followed by a letter starts a word
     * (loadIn4bit → load_in_4bit, bnb4bitQuantType → bnb_4bit_quant_type; adamBeta1 stays adam_beta1).
     */
    static String keyOf(String componentName) {
        StringBuilder s = new StringBuilder();
        char[] cs = componentName.toCharArray();
        for (int i = 0; i < cs.length; i++) {
            char c = cs[i];
            if (Character.isUpperCase(c)) s.append('_').append(Character.toLowerCase(c));
            else if (Character.isDigit(c) && i > 0 && Character.isLetter(cs[i - 1]) && i + 1 < cs.length && Character.isLetter(cs[i + 1])) s.append('_').append(c);
            else s.append(c);
        }
        return s.toString();
    }

    /** Every recipe key, in record order. */
    public static List<String> keys() {
        List<String> keys = new ArrayList<>();
        for (var c : RecipeConfig.class.getRecordComponents()) keys.add(keyOf(c.getName()));
        return keys;
    }

    /**
     * The defaults, each with its reason. Fields are set by {@link RecipeReader} (which validates each
     * value's type and range); {@link #problems()} checks what depends on several keys.
     */
    public static final class Builder {
        Path baseModel = null; // required: there is no sensible default model
        List<DatasetSpec> datasets = List.of(); // required: at least one dataset
        String chatTemplate = "tokenizer_default"; // the template the model was trained with (tokenizer_config.json)
        String systemMessage = null; // keep the data's own system messages unless asked to replace them
        boolean dropSystemMessage = false; // system prompts usually carry the task; dropping is opt-in
        double valSetSize = 0.0; // no held-out split unless asked: small datasets need every row (a fraction < 1, or a row count)
        Path validationPath = null; // a fixed validation file beats a random split when one exists
        int sequenceLen = 2048; // Axolotl's default; `jtune data check --recipe` shows the examples longer than it
        ExcessLength excessLengthStrategy = ExcessLength.DROP; // a cut example can lose the answer it should teach; drops are reported
        boolean samplePacking = false; // packing changes attention masks and loss weighting; opt in
        boolean trainOnInputs = false; // loss on assistant tokens only: learning to answer, not to echo prompts
        Adapter adapter = Adapter.LORA; // LoRA trains < 1% of the weights: fits CPU memory and time
        int loraR = 8; // the LoRA paper's rank; enough for task adaptation
        double loraAlpha = 16; // alpha = 2r is the common choice (scale 2)
        double loraDropout = 0.05; // light regularisation, as in QLoRA's smaller models
        List<String> loraTargetModules = List.of("q_proj", "k_proj", "v_proj", "o_proj"); // attention projections: most effect per parameter
        boolean useRslora = false; // rsLoRA (alpha/√r) matters only at high rank
        boolean peftUseDora = false; // DoRA costs a row-norm product per projection and step; plain LoRA unless asked
        Double loraplusLrRatio = null; // LoRA+ is opt-in: its ratio (16 in the paper) changes the effective rate
        Double neftuneNoiseAlpha = null; // NEFTune is opt-in: the paper's 5 helps chat answers, not every task
        TokenIndices trainableTokenIndices = TokenIndices.NONE; // embeddings stay frozen unless new tokens need training
        boolean initNewTokensFromMean = true; // new-token embeddings at the mean keep the first logits sane (Hewitt 2021)
        double learningRate = 2e-4; // the QLoRA/Axolotl LoRA rate; full fine-tuning wants ~1e-5
        Scheduler lrScheduler = Scheduler.COSINE; // the usual LLM fine-tuning schedule
        Integer warmupSteps = null; // warmup given as a ratio by default, so it scales with the run
        Double warmupRatio = 0.03; // transformers/Alpaca recipes' value: the first Adam steps have noisy v̂
        double cosineMinLrRatio = 0.0; // decay to zero as transformers' cosine does
        int numEpochs = 3; // the HF Trainer default; early stopping can end sooner
        Integer maxSteps = null; // epochs decide the length unless capped
        int microBatchSize = 2; // sequences per forward pass: bounds activation memory
        int gradientAccumulationSteps = 4; // effective batch 8 without the memory of 8
        OptimizerKind optimizer = OptimizerKind.ADAMW; // the standard for transformers
        double weightDecay = 0.0; // the HF Trainer default; LoRA rarely needs it
        double adamBeta1 = 0.9; // torch default
        double adamBeta2 = 0.999; // torch default
        double adamEpsilon = 1e-8; // torch default
        double sgdMomentum = 0.9; // used only with optimizer sgd: the classic value
        double maxGradNorm = 1.0; // HF Trainer default: guards against loss spikes (0 disables)
        boolean gradientCheckpointing = false; // recomputing activations costs ~30% more compute; on when memory is short
        Integer evalSteps = null; // once per epoch is enough for small runs
        Integer saveSteps = null; // once per epoch is enough for small runs
        Integer saveTotalLimit = 3; // bounds disk use; older checkpoints are removed first
        Integer earlyStoppingPatience = null; // stopping early needs a validation set; opt in
        boolean evalAccuracy = false; // classification accuracy at eval needs generation: slower; opt in
        long seed = 42; // fixed so that runs repeat; change it to measure variance
        Path outputDir = Path.of("outputs").toAbsolutePath(); // beside the recipe (the reader resolves it there)
        int loggingSteps = 10; // frequent enough for short CPU runs, sparse enough to read
        String mlflowTrackingUri = null; // MLflow logging is opt-in: nothing leaves the machine by default
        String mlflowExperimentName = "jtune"; // used only when mlflow_tracking_uri is set
        Integer threads = null; // all cores
        String device = null; // the CPU; a GPU is opted into
        Balance balance = Balance.NONE; // the data as given: balancing changes what the model sees, so it is opt-in
        double balanceMaxRatio = 1.0; // with balance on: every label as frequent as the largest (raise it to repeat tiny labels less)
        boolean loadIn4bit = false; // true (with adapter: qlora): the base's projections are quantized to NF4 on load, frozen
        String bnb4bitQuantType = "nf4"; // QLoRA's NormalFloat4; bitsandbytes' fp4 is not supported
        boolean bnb4bitUseDoubleQuant = true; // Axolotl's default: absmax quantized to 8 bits, ~0.37 bit per weight saved
        String bnb4bitComputeDtype = "float32"; // accepted for Axolotl recipes; jtune computes in float32 whatever is named

        Builder() {}

        // One typed setter per recipe key (RecipeConfigBuilderTest checks that none is missing), each checking the
        // range RecipeReader checks; nullable keys take null for "not set".

        /** base_model: the folder of a Hugging Face model. */
        public Builder baseModel(Path p) { baseModel = p; return this; }
        /** datasets: the training files. */
        public Builder datasets(List<DatasetSpec> d) { datasets = List.copyOf(d); return this; }
        /** chat_template: tokenizer_default, a built-in name (chatml, llama2, llama3, mistral) or Jinja source. */
        public Builder chatTemplate(String t) { chatTemplate = require("chat_template", t); return this; }
        /** system_message: replaces the data's system messages (null keeps them). */
        public Builder systemMessage(String s) { systemMessage = s; return this; }
        public Builder dropSystemMessage(boolean b) { dropSystemMessage = b; return this; }
        /** val_set_size: a fraction below 1, or a whole number of rows, held out for validation. */
        public Builder valSetSize(double v) {
            if (!(v >= 0) || (v >= 1 && v != Math.rint(v))) throw bad("val_set_size", "a fraction below 1 or a whole number of rows", v);
            valSetSize = v;
            return this;
        }
        public Builder validationPath(Path p) { validationPath = p; return this; }
        public Builder sequenceLen(int n) { sequenceLen = range("sequence_len", n, 8, 1 << 20); return this; }
        public Builder excessLengthStrategy(ExcessLength e) { excessLengthStrategy = require("excess_length_strategy", e); return this; }
        public Builder samplePacking(boolean b) { samplePacking = b; return this; }
        public Builder trainOnInputs(boolean b) { trainOnInputs = b; return this; }
        public Builder adapter(Adapter a) { adapter = require("adapter", a); return this; }
        public Builder loraR(int r) { loraR = range("lora_r", r, 1, 4096); return this; }
        public Builder loraAlpha(double a) { if (!(a > 0)) throw bad("lora_alpha", "> 0", a); loraAlpha = a; return this; }
        public Builder loraDropout(double d) { if (!(d >= 0 && d < 1)) throw bad("lora_dropout", "in [0, 1)", d); loraDropout = d; return this; }
        /** lora_target_modules: module names (q_proj, v_proj, …), or List.of(ALL_LINEAR). */
        public Builder loraTargetModules(List<String> m) { loraTargetModules = List.copyOf(m); return this; }
        public Builder useRslora(boolean b) { useRslora = b; return this; }
        public Builder peftUseDora(boolean b) { peftUseDora = b; return this; }
        public Builder neftuneNoiseAlpha(Double a) {
            if (a != null && !(a >= 0 && a < Double.POSITIVE_INFINITY)) throw bad("neftune_noise_alpha", ">= 0", a);
            neftuneNoiseAlpha = a;
            return this;
        }
        public Builder loraplusLrRatio(Double r) {
            if (r != null && !(r > 0 && r < Double.POSITIVE_INFINITY)) throw bad("loraplus_lr_ratio", "> 0", r);
            loraplusLrRatio = r;
            return this;
        }
        public Builder trainableTokenIndices(TokenIndices t) { trainableTokenIndices = require("trainable_token_indices", t); return this; }
        public Builder initNewTokensFromMean(boolean b) { initNewTokensFromMean = b; return this; }
        public Builder learningRate(double lr) { if (!(lr > 0 && lr <= 1)) throw bad("learning_rate", "in (0, 1]", lr); learningRate = lr; return this; }
        public Builder lrScheduler(Scheduler s) { lrScheduler = require("lr_scheduler", s); return this; }
        /** warmup_steps: clears warmup_ratio when set (they exclude each other). */
        public Builder warmupSteps(Integer n) {
            warmupSteps = n == null ? null : range("warmup_steps", n, 0, Integer.MAX_VALUE);
            if (n != null) warmupRatio = null;
            return this;
        }
        public Builder warmupRatio(Double r) {
            if (r != null && !(r >= 0 && r <= 1)) throw bad("warmup_ratio", "in [0, 1]", r);
            warmupRatio = r;
            return this;
        }
        public Builder cosineMinLrRatio(double r) { if (!(r >= 0 && r <= 1)) throw bad("cosine_min_lr_ratio", "in [0, 1]", r); cosineMinLrRatio = r; return this; }
        public Builder numEpochs(int n) { numEpochs = range("num_epochs", n, 1, 100_000); return this; }
        public Builder maxSteps(Integer n) { maxSteps = n == null ? null : range("max_steps", n, 1, Integer.MAX_VALUE); return this; }
        public Builder microBatchSize(int n) { microBatchSize = range("micro_batch_size", n, 1, 1 << 16); return this; }
        public Builder gradientAccumulationSteps(int n) { gradientAccumulationSteps = range("gradient_accumulation_steps", n, 1, 1 << 16); return this; }
        public Builder optimizer(OptimizerKind o) { optimizer = require("optimizer", o); return this; }
        public Builder weightDecay(double w) { if (!(w >= 0)) throw bad("weight_decay", ">= 0", w); weightDecay = w; return this; }
        public Builder adamBeta1(double b) { if (!(b >= 0 && b < 1)) throw bad("adam_beta1", "in [0, 1)", b); adamBeta1 = b; return this; }
        public Builder adamBeta2(double b) { if (!(b >= 0 && b < 1)) throw bad("adam_beta2", "in [0, 1)", b); adamBeta2 = b; return this; }
        public Builder adamEpsilon(double e) { if (!(e > 0 && e <= 1)) throw bad("adam_epsilon", "in (0, 1]", e); adamEpsilon = e; return this; }
        public Builder sgdMomentum(double m) { if (!(m >= 0 && m < 1)) throw bad("sgd_momentum", "in [0, 1)", m); sgdMomentum = m; return this; }
        public Builder maxGradNorm(double n) { if (!(n >= 0)) throw bad("max_grad_norm", ">= 0 (0 disables clipping)", n); maxGradNorm = n; return this; }
        public Builder gradientCheckpointing(boolean b) { gradientCheckpointing = b; return this; }
        public Builder evalSteps(Integer n) { evalSteps = n == null ? null : range("eval_steps", n, 1, Integer.MAX_VALUE); return this; }
        public Builder saveSteps(Integer n) { saveSteps = n == null ? null : range("save_steps", n, 1, Integer.MAX_VALUE); return this; }
        public Builder saveTotalLimit(Integer n) { saveTotalLimit = n == null ? null : range("save_total_limit", n, 1, Integer.MAX_VALUE); return this; }
        public Builder earlyStoppingPatience(Integer n) {
            earlyStoppingPatience = n == null ? null : range("early_stopping_patience", n, 1, Integer.MAX_VALUE);
            return this;
        }
        public Builder evalAccuracy(boolean b) { evalAccuracy = b; return this; }
        public Builder seed(long s) { seed = s; return this; }
        public Builder outputDir(Path p) { outputDir = require("output_dir", p); return this; }
        public Builder loggingSteps(int n) { loggingSteps = range("logging_steps", n, 1, Integer.MAX_VALUE); return this; }
        /** mlflow_tracking_uri: an http(s) address, or null for no MLflow logging. */
        public Builder mlflowTrackingUri(String u) {
            if (u != null && !(u.startsWith("http://") || u.startsWith("https://"))) throw bad("mlflow_tracking_uri", "an http:// or https:// address", u);
            mlflowTrackingUri = u;
            return this;
        }
        public Builder mlflowExperimentName(String n) { mlflowExperimentName = require("mlflow_experiment_name", n); return this; }
        public Builder threads(Integer n) { threads = n == null ? null : range("threads", n, 1, 4096); return this; }
        /** device: where the model, adapters and optimizer state live (cpu, opencl[:N], cuda[:N]); null = cpu. */
        public Builder device(String d) { device = d; return this; }
        public Builder balance(Balance b) { balance = require("balance", b); return this; }
        public Builder loadIn4bit(boolean b) { loadIn4bit = b; return this; }
        public Builder bnb4bitQuantType(String t) { bnb4bitQuantType = require("bnb_4bit_quant_type", t); return this; }
        public Builder bnb4bitUseDoubleQuant(boolean b) { bnb4bitUseDoubleQuant = b; return this; }
        public Builder bnb4bitComputeDtype(String t) { bnb4bitComputeDtype = require("bnb_4bit_compute_dtype", t); return this; }
        /** balance_max_ratio: with balance oversample, how many times rarer than the largest label a label may stay (>= 1). */
        public Builder balanceMaxRatio(double r) { if (!(r >= 1)) throw bad("balance_max_ratio", ">= 1", r); balanceMaxRatio = r; return this; }

        private static <T> T require(String key, T value) {
            if (value == null) throw new IllegalArgumentException(key + " must not be null");
            return value;
        }

        private static int range(String key, int v, int min, int max) {
            if (v < min || v > max) throw bad(key, "in [" + min + ", " + max + "]", v);
            return v;
        }

        private static IllegalArgumentException bad(String key, String expected, Object got) {
            return new IllegalArgumentException(key + " must be " + expected + ", got " + got);
        }

        /**
         * Problems that involve several keys, as key → message (the reader adds file and line).
         * Empty when the recipe is usable.
         */
        public Map<String, String> problems() {
            Map<String, String> p = new LinkedHashMap<>();
            // base_model and datasets are required of a recipe file (RecipeReader) and of FineTune.run; a library
            // run trains a model already loaded, on examples given in memory, and sets neither
            if (warmupSteps != null && warmupRatio != null) {
                p.put("warmup_steps", "set warmup_steps or warmup_ratio, not both");
            }
            if (validationPath != null && valSetSize > 0) {
                p.put("val_set_size", "set val_set_size or validation_path, not both");
            }
            boolean validation = validationPath != null || valSetSize > 0;
            if (earlyStoppingPatience != null && !validation) {
                p.put("early_stopping_patience", "early_stopping_patience needs a validation set (val_set_size or validation_path)");
            }
            if (evalAccuracy && !validation) {
                p.put("eval_accuracy", "eval_accuracy needs a validation set (val_set_size or validation_path)");
            }
            if (adapter == Adapter.FULL && !trainableTokenIndices.isEmpty()) {
                p.put("trainable_token_indices", "trainable_token_indices applies to adapters; with adapter: full every token is trained");
            }
            if (adapter == Adapter.QLORA && !loadIn4bit) p.put("adapter", "adapter: qlora needs load_in_4bit: true (the base is quantized to 4-bit NF4)");
            if (loadIn4bit && adapter != Adapter.QLORA) p.put("load_in_4bit", "load_in_4bit: true needs adapter: qlora (a 4-bit base is frozen; LoRA adapters train on it)");
            if (!"nf4".equals(bnb4bitQuantType)) p.put("bnb_4bit_quant_type", "bnb_4bit_quant_type must be nf4 (fp4 is not supported), got " + bnb4bitQuantType);
            if (!COMPUTE_DTYPES.contains(bnb4bitComputeDtype)) {
                p.put("bnb_4bit_compute_dtype", "bnb_4bit_compute_dtype must be one of float32, bfloat16, float16, got " + bnb4bitComputeDtype);
            }
            if (peftUseDora && adapter == Adapter.FULL) p.put("peft_use_dora", "peft_use_dora applies to LoRA adapters; adapter: full has none");
            if (loraplusLrRatio != null && adapter == Adapter.FULL) {
                p.put("loraplus_lr_ratio", "loraplus_lr_ratio applies to LoRA's B matrices; adapter: full has none");
            }
            if (loraTargetModules.isEmpty()) p.put("lora_target_modules", "lora_target_modules must name at least one module, or be all-linear");
            return p;
        }

        /** The record; throws IllegalArgumentException listing {@link #problems()} when there are any. */
        public RecipeConfig build() {
            Map<String, String> p = problems();
            if (!p.isEmpty()) throw new IllegalArgumentException(String.join("; ", p.values()));
            return new RecipeConfig(baseModel, datasets, chatTemplate, systemMessage, dropSystemMessage, valSetSize, validationPath,
                    sequenceLen, excessLengthStrategy, samplePacking, trainOnInputs, adapter, loraR, loraAlpha, loraDropout, loraTargetModules, useRslora,
                    peftUseDora, loraplusLrRatio, neftuneNoiseAlpha, trainableTokenIndices, initNewTokensFromMean, learningRate, lrScheduler, warmupSteps, warmupRatio,
                    cosineMinLrRatio, numEpochs, maxSteps, microBatchSize, gradientAccumulationSteps, optimizer, weightDecay,
                    adamBeta1, adamBeta2, adamEpsilon, sgdMomentum, maxGradNorm, gradientCheckpointing, evalSteps, saveSteps,
                    saveTotalLimit, earlyStoppingPatience, evalAccuracy, seed, outputDir, loggingSteps, mlflowTrackingUri,
                    mlflowExperimentName, threads, device, balance, balanceMaxRatio, loadIn4bit, bnb4bitQuantType, bnb4bitUseDoubleQuant,
                    bnb4bitComputeDtype);
        }
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
