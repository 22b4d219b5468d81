package org.jtune.tensor.cuda;

import java.util.List;

/**
 * One kernel as the Java side launches it: the PTX module (a {@code src/main/cuda/<module>.cu} file), the
 * entry name and the kinds of its parameters in order. {@link CudaKernels} lists every launch site's spec;
 * the tests compare each with the {@code .entry} of the built PTX, and {@link CudaContext#launch} checks the
 * arguments of every launch against it, so a Java call and a CUDA signature cannot drift apart silently.
 */
public record KernelSpec(String module, String name, List<Param> params) {
    /** A kernel parameter: PTX declares pointers and 64-bit integers as .u64, int as .u32, float as .f32. */
    public enum Param {
        /** A device address (a {@code long}). */
        PTR(".u64"),
        I64(".u64"),
        I32(".u32"),
        F32(".f32"),
        /** A by-value struct packed by {@link CudaLayouts} (a {@code byte[]}); PTX: {@code .align A .b8 name[N]}. */
        STRUCT(".b8");

        private final String ptxType;

        Param(String ptxType) {
            this.ptxType = ptxType;
        }

        public String ptxType() {
            return ptxType;
        }
    }

    public static KernelSpec of(String module, String name, Param... params) {
        return new KernelSpec(module, name, List.of(params));
    }
}
