package org.jtune.train.run;

import org.jtune.io.AtomicFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.jtune.JtuneException;
import org.jtune.autograd.ChunkedLoss;
import org.jtune.autograd.CrossEntropy;
import org.jtune.autograd.Variable;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.CausalLM;
import org.jtune.models.ForwardPass;
import org.jtune.models.arch.Architectures;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraAdapters;
import org.jtune.models.lora.LoraConfig;
import org.jtune.models.lora.PeftFormat;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.tensor.AttentionMask;
import org.jtune.tensor.DType;
import org.jtune.tensor.HeapGrowthLimit;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.StepBufferPool;
import org.jtune.tensor.Tensor;
import org.jtune.train.checkpoint.Checkpoint;
import org.jtune.train.checkpoint.CheckpointStore;
import org.jtune.train.checkpoint.DataCursor;
import org.jtune.train.checkpoint.TrainerState;
import org.jtune.train.data.SeededShuffle;
import org.jtune.train.optim.AdamW;
import org.jtune.train.optim.ConstantSchedule;
import org.jtune.train.optim.CosineSchedule;
import org.jtune.train.optim.GradientClipping;
import org.jtune.train.optim.LinearSchedule;
import org.jtune.train.optim.LrSchedule;
import org.jtune.train.optim.Optimizer;
import org.jtune.train.optim.LoraPlus;
import org.jtune.train.optim.ParamGroup;
import org.jtune.models.ModelDevice;
import org.jtune.tensor.Device;
import org.jtune.train.optim.Sgd;
import org.jtune.train.optim.WeightDecayRule;
import org.jtune.train.prep.Batch;
import org.jtune.train.prep.Batcher;
import org.jtune.train.prep.ChatEncoder;
import org.jtune.train.prep.TokenizedExample;
import org.jtune.train.recipe.RecipeConfig;

/**
 * The fine-tuning recipe, LoRA or full, read top to bottom: setup (model, tokenizer, template,
 * preflight checks, data, trainable parameters, optimizer, schedule, resume), the training loop
 * (micro-batches accumulated into one optimizer step, the loss normalised by the number of trained
 * tokens of the whole accumulation window, clipping, evaluation, checkpoints, early stopping), and
 * the outputs (the PEFT adapter or the model with the prompt format it was trained in, metrics.jsonl,
 * the recipe copy, the report). The same recipe, machine and thread count give bit-identical results,
 * also across a resume. {@link #run} loads the base model and releases it at the end; {@link #train}
 * trains a model the caller holds (a library run), which keeps the trained adapter, or weights, after.
 */
public final class FineTune {
    private FineTune() {}

    /** What a caller (the CLI's progress bar, a test) hears during the run. */
    public interface Listener {
        default void info(String message) {}

        default void step(StepMetrics m) {}

        default void eval(long step, double valLoss, Double accuracy) {}

        /** The micro-batches of optimizer step {@code step}, before it runs (for reference replays and debugging). */
        default void window(long step, List<Batch> batches) {}
    }

    /** @param epoch epochs completed so far, fractional (1.0 after the first epoch's last step), as Hugging Face logs it */
    public record StepMetrics(long step, long totalSteps, double epoch, double loss, double lr, double gradNorm,
                              double tokensPerSecond, double elapsedSeconds) {}

    public record Result(Path runDir, Path output, long steps, double lastLoss, Double valLoss, Double valAccuracy,
                         double seconds) {}

    /** Training examples given in memory instead of the recipe's files; validation may be empty. */
    public record Examples(List<org.jtune.train.data.Conversation> train, List<org.jtune.train.data.Conversation> validation) {
        public Examples {
            train = List.copyOf(train);
            validation = List.copyOf(validation);
        }
    }

    /**
     * Trains the recipe's base model on its datasets, writes the run folder, and releases the model. The
     * folder is locked for the whole run (see {@link RunFolder}).
     */
    public static Result run(RecipeConfig recipe, Path runDir, boolean resume, Listener listener) throws JtuneException {
        if (recipe.baseModel() == null) throw new JtuneException("the recipe has no base_model (the folder of a Hugging Face model)");
        if (recipe.datasets().isEmpty()) throw new JtuneException("the recipe has no datasets: a list of {path, type} entries");
        RecipeConfig fitted = RunChecks.fitContext(recipe, Architectures.readConfig(recipe.baseModel()).maxPositionEmbeddings(), listener);
        try (RunFolder folder = RunFolder.open(runDir, fitted, resume, listener);
             CausalLM model = Architectures.load(fitted.baseModel())) {
            return trainLocked(model, fitted, null, runDir, folder.resume(), Adapters.DEFAULT, listener);
        }
    }

    /**
     * Trains {@code model}, loaded by the caller from {@code recipe.baseModel()} (its tokenizer and template
     * come from there), on {@code examples} (null: the recipe's datasets), and writes the run folder (locked
     * meanwhile). Afterwards the model holds what was trained: LoRA adds adapter {@code adapterName}, left
     * attached and active; full fine-tuning leaves the trained weights in place. The caller closes the model.
     */
    public static Result train(CausalLM model, RecipeConfig recipe, Examples examples, Path runDir, boolean resume,
                               String adapterName, Listener listener) throws JtuneException {
        RecipeConfig fitted = RunChecks.fitContext(recipe, model.config().maxPositionEmbeddings(), listener);
        try (RunFolder folder = RunFolder.open(runDir, fitted, resume, listener)) {
            return trainLocked(model, fitted, examples, runDir, folder.resume(), adapterName, listener);
        }
    }

    private static Result trainLocked(CausalLM model, RecipeConfig recipe, Examples examples, Path runDir, boolean resume,
                                      String adapterName, Listener listener) throws JtuneException {
        // ---- setup ---------------------------------------------------------------------------
        if (recipe.threads() != null) Parallel.setThreads(recipe.threads());
        Path base = recipe.baseModel();
        if (base == null) throw new JtuneException("the recipe has no base_model: the folder the model was loaded from");
        Tokenizer tokenizer = Tokenizer.load(base);
        ChatTemplate template = RunSetup.chatTemplate(recipe, base);
        ChatEncoder encoder = new ChatEncoder(template, tokenizer, recipe.systemMessageOverride(), recipe.trainOnInputs());
        RunSetup.preflight(model, tokenizer, template, listener);
        List<Integer> tokenRows = RunSetup.trainableTokenIds(recipe, tokenizer);
        RunChecks.againstModel(recipe, model, tokenizer, tokenRows);
        TrainingData data = examples == null ? TrainingData.load(recipe, encoder)
                : TrainingData.inMemory(recipe, encoder, examples.train(), examples.validation());
        RunChecks.trainedTokens(data, template);
        listener.info(data.train().size() + " training and " + data.validation().size() + " validation examples"
                + (data.droppedTooLong() > 0 ? "; " + data.droppedTooLong() + " longer than sequence_len " + recipe.sequenceLen() + " "
                + (recipe.excessLengthStrategy() == RecipeConfig.ExcessLength.TRUNCATE ? "truncated" : "dropped") : ""));
        if (data.balance().applied()) listener.info(data.balance().summary());

        Rng initRng = new Rng(recipe.seed());
        Rng dropoutRng = new Rng(recipe.seed() ^ 0x5DEECE66DL);
        if (recipe.adapter().isLora()) RunSetup.warnUntrainedTokens(model, encoder, data, tokenRows, listener);
        Map<String, Variable> trainable;
        LoraConfig lora = null;
        if (recipe.adapter() == RecipeConfig.Adapter.QLORA) {
            // QLoRA (Dettmers et al. 2023): the base's projections become NF4, frozen and 4-bit in memory; embeddings,
            // norms and the LM head stay as stored. A base saved 4-bit by bitsandbytes is NF4 already.
            List<String> quantized = org.jtune.models.nf4.Nf4Checkpoints.quantize(model.weights(), recipe.bnb4bitUseDoubleQuant());
            long nf4 = model.weights().all().stream().filter(w -> w.value().dtype() == org.jtune.tensor.DType.BLOCK).count();
            listener.info("QLoRA: " + nf4 + " projections in NF4" + (quantized.isEmpty() ? " (as stored)" : " (" + quantized.size()
                    + " quantized on load" + (recipe.bnb4bitUseDoubleQuant() ? ", double quantization" : "") + ")"));
        }
        boolean onHost = true;
        if (recipe.device() != null) { // once, before adapters and optimizer state are created (on the weights' device)
            Device device = Device.open(recipe.device());
            onHost = device.isHost();
            ModelDevice.move(model, device);
            if (!device.isHost()) listener.info("training on " + device + " (" + device.backend().name() + ")");
        }
        if (recipe.adapter().isLora()) {
            lora = new LoraConfig(recipe.loraR(), (float) recipe.loraAlpha(), (float) recipe.loraDropout(),
                    recipe.loraTargetModules(), // all-linear and module names are resolved against the model's projections
                    recipe.useRslora(), tokenRows).withDora(recipe.peftUseDora());
            trainable = LoraAdapters.attach(model, adapterName, lora, initRng, recipe.initNewTokensFromMean());
            lora = model.adapters().get(adapterName).config();
        } else {
            trainable = RunSetup.makeFullyTrainable(model);
        }
        List<Variable> paramList = new ArrayList<>(trainable.values()); // named leaves, each with its one gradient buffer
        long trainableCount = paramList.stream().mapToLong(p -> p.value().numel()).sum();
        listener.info((lora != null ? (lora.useDora() ? "DoRA" : "LoRA") + " r=" + lora.rank() + " on " + String.join(", ", lora.targetModules()) : "full fine-tuning")
                + ": " + trainableCount + " trainable parameters");
        List<ParamGroup> groups = WeightDecayRule.split(paramList, recipe.weightDecay());
        if (recipe.loraplusLrRatio() != null) groups = LoraPlus.groups(groups, recipe.loraplusLrRatio());
        Optimizer optimizer = recipe.optimizer() == RecipeConfig.OptimizerKind.SGD
                ? new Sgd(groups, new Sgd.Config(recipe.sgdMomentum(), 0, false))
                : new AdamW(groups, new AdamW.Config(recipe.adamBeta1(), recipe.adamBeta2(), recipe.adamEpsilon()));

        int accumulation = recipe.gradientAccumulationSteps();
        List<Batch> firstEpoch = batches(recipe, data.train(), 0);
        int batchesPerEpoch = firstEpoch.size();
        long poolBudget = Long.MAX_VALUE; // on a device the pool keeps what the step allocates
        if (onHost) { // the plan counts host memory; on a device the activations and optimizer state live there
            long tokens = firstEpoch.stream().mapToLong(b -> (long) b.rows() * b.length()).max().orElse(0);
            int states = optimizer instanceof AdamW ? 2 : recipe.sgdMomentum() > 0 ? 1 : 0;
            MemoryPlan plan = MemoryPlan.of(model, new MemoryPlan.Workload(tokens, recipe.gradientCheckpointing(), trainableCount, states,
                    !recipe.adapter().isLora()));
            listener.info(plan.describe());
            MemoryPlan.checkFits(plan, listener);
            poolBudget = plan.activationBytes();
        }
        long stepsPerEpoch = Math.max(1, (batchesPerEpoch + accumulation - 1) / accumulation);
        long totalSteps = recipe.totalSteps(stepsPerEpoch);
        LrSchedule schedule = schedule(recipe, totalSteps);
        long evalEvery = recipe.evalSteps() != null ? recipe.evalSteps() : stepsPerEpoch;
        long saveEvery = recipe.saveSteps() != null ? recipe.saveSteps() : stepsPerEpoch;

        CheckpointStore store = new CheckpointStore(runDir, new SafetensorsCodec());
        TrainerState state = TrainerState.initial(dropoutRng.state());
        ResumeCheck identity = ResumeCheck.of(recipe, examples);
        NonFiniteGuard guard = new NonFiniteGuard();
        if (resume) {
            var loaded = store.loadNewestIntact();
            if (loaded.isEmpty()) throw new JtuneException(runDir + " has no checkpoint to resume from");
            Checkpoint c = loaded.get().checkpoint();
            for (String skipped : loaded.get().skipped()) listener.info("WARNING " + skipped + "; falling back to an earlier checkpoint");
            identity.verify(c, loaded.get().folder(), recipe, trainable);
            RunSetup.restore(c, trainable, optimizer);
            state = c.state();
            dropoutRng.setState(state.rngState());
            guard.saved(loaded.get().folder(), state.globalStep());
            listener.info("resumed from " + loaded.get().folder() + " at step " + state.globalStep());
        } else {
            AtomicFile.writeString(runDir.resolve("config.yaml"), recipe.toYaml()); // a resumed run keeps it: the recipe was checked equal
        }
        if (data.balance().applied()) AtomicFile.writeString(runDir.resolve("balance.json"), data.balance().json());
        RunLog log = new RunLog(runDir, resume, state.globalStep(), recipe, listener);

        // ---- training loop ---------------------------------------------------------------------
        long started = System.nanoTime();
        double elapsedBefore = state.elapsedSeconds();
        double lastLoss = Double.NaN;
        Double lastValLoss = null, lastAccuracy = null;
        boolean stop = false;
        // a micro-batch's activations and temporaries come from buffers the previous one used (gradient
        // buffers and optimizer state are allocated outside it), keeping at most the plan's activations; -Djtune.stepPool=false turns it off
        StepBufferPool stepPool = StepBufferPool.enabled() ? new StepBufferPool(poolBudget) : null;
        // a full collection whenever the heap in use passes TRAINING_RATIO × the live data: ParallelGC would otherwise grow the
        // old generation with dead activations (HeapGrowthLimit); -Djtune.heapLimit=false turns it off
        HeapGrowthLimit heapLimit = HeapGrowthLimit.enabled() ? HeapGrowthLimit.install(HeapGrowthLimit.TRAINING_RATIO, HeapGrowthLimit.TRAINING_FLOOR) : null;
        try {
            while (state.globalStep() < totalSteps && !stop) {
                int epoch = state.cursor().epoch();
                List<Batch> epochBatches = batches(recipe, data.train(), epoch);
                for (int i = (int) state.cursor().index(); i < epochBatches.size() && state.globalStep() < totalSteps; i += accumulation) {
                    long t0 = System.nanoTime();
                    List<Batch> windowBatches = epochBatches.subList(i, Math.min(epochBatches.size(), i + accumulation));
                    listener.window(state.globalStep() + 1, windowBatches);
                    org.jtune.models.io.MappedWeights.checkIntact();
                    double loss = accumulateGradients(model, windowBatches, dropoutRng, recipe.gradientCheckpointing(), stepPool,
                            recipe.neftuneNoiseAlpha() == null ? 0 : recipe.neftuneNoiseAlpha().floatValue());
                    long tokens = windowBatches.stream().mapToLong(b -> (long) b.rows() * b.length()).sum();
                    guard.checkLoss(state.globalStep() + 1, loss, paramList);
                    double gradNorm = recipe.maxGradNorm() > 0 ? GradientClipping.clip(paramList, recipe.maxGradNorm()) : GradientClipping.globalNorm(paramList);
                    guard.checkGradNorm(state.globalStep() + 1, gradNorm, paramList);
                    double lr = schedule.lr(state.schedulerStep());
                    optimizer.step(lr);
                    optimizer.zeroGrad();
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    double elapsed = elapsedBefore + (System.nanoTime() - started) / 1e9;
                    long step = state.globalStep() + 1;
                    int nextIndex = i + accumulation;
                    DataCursor cursor = nextIndex >= epochBatches.size() ? new DataCursor(epoch + 1, 0) : new DataCursor(epoch, nextIndex);
                    state = new TrainerState(step, cursor.epoch(), cursor, dropoutRng.state(), state.bestMetric(), state.bestStep(),
                            state.evalsWithoutImprovement(), state.schedulerStep() + 1, state.tokensSeen() + tokens, elapsed);
                    lastLoss = loss;
                    double epochProgress = epoch + Math.min(1.0, (double) nextIndex / epochBatches.size());
                    StepMetrics m = new StepMetrics(step, totalSteps, epochProgress, loss, lr, gradNorm, tokens / seconds, elapsed);
                    listener.step(m);
                    log.step(m);

                    boolean last = step == totalSteps;
                    if (!data.validation().isEmpty() && (step % evalEvery == 0 || last)) {
                        Evaluation ev = Evaluation.run(model, recipe, encoder, data, tokenizer);
                        lastValLoss = ev.loss();
                        lastAccuracy = ev.accuracy();
                        listener.eval(step, ev.loss(), ev.accuracy());
                        log.eval(step, epochProgress, ev.loss(), ev.accuracy(), elapsed);
                        double metric = ev.accuracy() != null ? -ev.accuracy() : ev.loss(); // lower is better
                        boolean better = state.bestMetric() == null || metric < state.bestMetric();
                        state = new TrainerState(step, state.epoch(), state.cursor(), state.rngState(), better ? metric : state.bestMetric(),
                                better ? step : state.bestStep(), better ? 0 : state.evalsWithoutImprovement() + 1, state.schedulerStep(),
                                state.tokensSeen(), state.elapsedSeconds());
                        if (recipe.earlyStoppingPatience() != null && state.evalsWithoutImprovement() >= recipe.earlyStoppingPatience()) {
                            listener.info("early stopping: no improvement in " + state.evalsWithoutImprovement() + " evaluations");
                            stop = true;
                        }
                    }
                    if (step % saveEvery == 0 || last || stop) {
                        guard.checkWeights(step, paramList);
                        Path saved = store.save(new Checkpoint(state, optimizer.state(), lora != null ? "adapter_model" : "model", weights(trainable),
                                Map.of("recipe.yaml", recipe.toYaml(), ResumeCheck.FILE, identity.json(trainable))));
                        guard.saved(saved, step);
                        if (recipe.saveTotalLimit() != null) store.prune(recipe.saveTotalLimit(), state.bestStep());
                    }
                    if (stop) break;
                }
            }
        } finally {
            if (heapLimit != null) heapLimit.close();
        }

        // ---- outputs ----------------------------------------------------------------------------
        Path output;
        if (lora != null) {
            output = runDir.resolve("adapter");
            boolean qlora = recipe.adapter() == RecipeConfig.Adapter.QLORA;
            PeftFormat.save(output, model, adapterName, base.toString(), staged -> {
                PromptFormat.write(staged, base, template, recipe.systemMessageOverride());
                if (qlora) org.jtune.models.nf4.QloraBase.record(staged, recipe.bnb4bitUseDoubleQuant()); // merge and eval rebuild its NF4 base
            });
        } else {
            output = runDir.resolve("model");
            RunSetup.saveModel(model, base, output, staged -> PromptFormat.write(staged, staged, template, recipe.systemMessageOverride()));
        }

        log.report(recipe, state, output);
        return new Result(runDir, output, state.globalStep(), lastLoss, lastValLoss, lastAccuracy, state.elapsedSeconds());
    }

    /**
     * Forward and backward of the micro-batches of one optimizer step; gradients accumulate in the
     * trainable variables. The loss is the sum over every trained token of the window divided by their
     * total count, so k micro-batches give the gradient of one batch k times larger. Returns the loss.
     */
    public static double accumulateGradients(CausalLM model, List<Batch> windowBatches, Rng dropout, boolean checkpointing) {
        return accumulateGradients(model, windowBatches, dropout, checkpointing, null);
    }

    /**
     * {@link #accumulateGradients(CausalLM, List, Rng, boolean)} with each micro-batch's forward and
     * backward run as one step of {@code pool} (null: no pool), whose buffers serve the next micro-batch.
     */
    public static double accumulateGradients(CausalLM model, List<Batch> windowBatches, Rng dropout, boolean checkpointing,
                                             StepBufferPool pool) {
        return accumulateGradients(model, windowBatches, dropout, checkpointing, pool, 0);
    }

    /** The same with NEFTune's noise of {@code neftuneAlpha} on the embeddings (0: none), drawn from {@code dropout}. */
    public static double accumulateGradients(CausalLM model, List<Batch> windowBatches, Rng dropout, boolean checkpointing,
                                             StepBufferPool pool, float neftuneAlpha) {
        int window = model.config().slidingWindow() == null ? 0 : model.config().slidingWindow();
        int windowTokens = Math.max(1, windowBatches.stream().mapToInt(Batch::trainedTokens).sum());
        double loss = 0;
        for (Batch b : windowBatches) {
            Supplier<Float> step = () -> {
                Variable l = microBatchLoss(model, b, window, dropout, checkpointing, windowTokens, neftuneAlpha);
                l.backward();
                return l.value().item();
            };
            loss += pool == null ? step.get() : pool.step(step);
        }
        return loss;
    }

    /**
     * The recorded loss of one micro-batch. Its own frame, so that no local of the caller holds the hidden states
     * while the backward runs: an interpreted frame keeps every local it has until it returns.
     */
    private static Variable microBatchLoss(CausalLM model, Batch b, int window, Rng dropout, boolean checkpointing,
                                           int windowTokens, float neftuneAlpha) {
        AttentionMask mask = new AttentionMask(true, window, 0, b.segments());
        ForwardPass pass = ForwardPass.training(mask, dropout, checkpointing).withNeftune(neftuneAlpha);
        Variable hidden = model.hidden(b.ids(), b.positions(), pass);
        return tokenLoss(model, hidden, b.targets(), windowTokens);
    }

    /** Off: the head and the loss run over the whole micro-batch at once (the path before {@link ChunkedLoss}; benchmarks compare). */
    private static final boolean CHUNKED_LOSS = !"false".equals(System.getProperty("jtune.chunkedLoss"));

    /**
     * The summed cross-entropy of the next-token {@code targets} (ids, {@link Batch#IGNORE} for untrained positions) over
     * the logits of {@code hidden} (..., hidden size), divided by {@code normaliser}: the head and the loss a chunk of rows
     * at a time ({@link ChunkedLoss}), so a micro-batch's full logits are never held (-Djtune.chunkedLoss=false holds them).
     * Backward must start at the returned loss. Training steps, the memory plan and the benchmarks' steps use this.
     */
    public static Variable tokenLoss(CausalLM model, Variable hidden, Tensor targets, float normaliser) {
        return tokenLoss(model, hidden, targets, normaliser, chunkRows(model.config().vocabSize()));
    }

    /** Rows per chunk of {@link #tokenLoss} for a vocabulary: {@link ChunkedLoss#rowsPerChunk}, or all rows when switched off. */
    private static int chunkRows(int vocab) {
        return CHUNKED_LOSS ? ChunkedLoss.rowsPerChunk(vocab) : Integer.MAX_VALUE;
    }

    /** {@link #tokenLoss} in chunks of {@code chunkRows} rows (tests compare chunk sizes). */
    static Variable tokenLoss(CausalLM model, Variable hidden, Tensor targets, float normaliser, int chunkRows) {
        Variable rows = hidden.reshape(-1, hidden.size(-1));
        Tensor flatTargets = targets.reshape(-1);
        return ChunkedLoss.apply(rows, chunkRows, (h, from, length) ->
                CrossEntropy.applyConsumingLogits(model.logits(h), flatTargets.narrow(0, from, length), Batch.IGNORE, normaliser));
    }

    /** The rows of a micro-batch's logits that {@link #tokenLoss} holds at once (the memory plan counts them). */
    public static long heldLogitRows(long tokens, int vocab) {
        return Math.min(tokens, chunkRows(vocab));
    }

    /** The micro-batches of one epoch: examples shuffled by (seed, epoch), then padded or packed. */
    static List<Batch> batches(RecipeConfig recipe, List<TokenizedExample> examples, int epoch) {
        List<TokenizedExample> order = SeededShuffle.shuffle(examples, recipe.seed() * 1_000_003L + epoch);
        return recipe.samplePacking()
                ? Batcher.packed(order, recipe.microBatchSize(), recipe.sequenceLen(), 0)
                : Batcher.padded(order, recipe.microBatchSize(), 0);
    }

    private static LrSchedule schedule(RecipeConfig r, long totalSteps) {
        long warmup = r.warmupSteps(totalSteps);
        return switch (r.lrScheduler()) {
            case COSINE -> new CosineSchedule(r.learningRate(), warmup, totalSteps, r.cosineMinLrRatio());
            case LINEAR -> new LinearSchedule(r.learningRate(), warmup, totalSteps);
            case CONSTANT -> new ConstantSchedule(r.learningRate(), warmup);
        };
    }

    private static Map<String, Tensor> weights(Map<String, Variable> trainable) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (var e : trainable.entrySet()) m.put(e.getKey(), e.getValue().value());
        return m;
    }
}
