package org.jtune.bench;

/** The registry of `jtune bench` benchmarks: one enum constant per benchmark, each in its own class. */
public final class Benchmarks {
    private Benchmarks() {}

    /** Benchmark names as typed on the command line. */
    public enum Name { gemm, gemv, decode_batch, ops, tokenize, structured, prompt_lookup, score, decode, decode_quick, backward, train, train_reference, serve, serve_quick, qlora, lora_step }

    /** Runs one benchmark; result lines go to stdout (JSON with {@code json}), progress to stderr. Returns the exit code. */
    public static int run(Name name, boolean json) throws Exception {
        return run(name, json, false);
    }

    /** As {@link #run(Name, boolean)}; {@code quick} picks a benchmark's small check shape where it has one (decode, serve). */
    public static int run(Name name, boolean json, boolean quick) throws Exception {
        return run(name, json, quick, DecodeBenchmark.ALL_FORMATS);
    }

    /** As {@link #run(Name, boolean, boolean)}; {@code formats} are the weight formats decode measures (f32, bf16, q8_0, q4_0, q4_k). */
    public static int run(Name name, boolean json, boolean quick, java.util.List<String> formats) throws Exception {
        if (quick && name == Name.decode) name = Name.decode_quick;
        if (quick && name == Name.serve) name = Name.serve_quick;
        return switch (name) {
            case gemm -> new GemmBenchmark().run(json);
            case gemv -> new GemvBenchmark().run(json);
            case decode_batch -> new BatchDecodeBenchmark().run(json);
            case ops -> new OpsBenchmark().run(json);
            case tokenize -> TokenizeBenchmark.run(json);
            case structured -> StructuredOutputBenchmark.run(json);
            case prompt_lookup -> PromptLookupBenchmark.run(json, quick);
            case score -> ScoreBenchmark.run(json, quick);
            case decode -> new DecodeBenchmark(false, formats).run(json);
            case decode_quick -> new DecodeBenchmark(true, formats).run(json);
            case train_reference -> new TrainReferenceDump().run();
            case backward -> BackwardBench.run(json);
            case train -> TrainBench.run(json);
            case serve -> new ServeBenchmark(false).run(json);
            case serve_quick -> new ServeBenchmark(true).run(json);
            case qlora -> QloraBench.run(json);
            case lora_step -> new LoraStepBenchmark().run(json);
        };
    }
}
