package org.jtune.tensor;

import java.util.stream.Stream;

/**
 * The backends the op-conformance suite runs against: a parameterised test takes a {@link Backend}
 * from {@code @MethodSource("org.jtune.tensor.Backends#all")} and calls the ops inside
 * {@link Ops#using}. Today only the CPU backend; a CUDA or OpenCL backend is added here when present.
 */
public final class Backends {
    private Backends() {}

    public static Stream<Backend> all() {
        return Stream.of(Backend.cpu());
    }
}
