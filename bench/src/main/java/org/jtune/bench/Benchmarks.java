package org.jtune.bench;

/** The registry of `jtune bench` benchmarks: one enum constant per benchmark, each in its own class. */
public final class Benchmarks {
    private Benchmarks() {}

    /** Benchmark names as typed on the command line. */
    public enum Name { gemm, ops, backward }

    public static int run(Name name, boolean json) throws Exception {
        return switch (name) {
            case backward -> BackwardBench.run(json);
            default -> {
                System.err.println("benchmark '" + name + "' is not built yet");
                yield 2;
            }
        };
    }
}
