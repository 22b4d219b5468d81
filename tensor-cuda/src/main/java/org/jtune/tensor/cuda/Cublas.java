package org.jtune.tensor.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * cuBLAS through the JDK's foreign-function API: cublasCreate_v2, cublasSetStream_v2 and
 * cublasGemmStridedBatchedEx, whose C signatures are the same in cuBLAS 12 and 13. (JCuda's JCublas 12.0
 * natives link libcublas.so.12 by name, which a CUDA 13 machine does not have; calling the installed
 * library directly works with either.) The library is found as {@code $JTUNE_CUBLAS} (a file), else
 * libcublas.so.13 or .12 on the loader's path, else under the usual CUDA folders.
 */
final class Cublas {
    static final int OP_N = 0, OP_T = 1;
    /** cudaDataType_t. */
    static final int R_32F = 0, R_16F = 2, R_16BF = 14;
    /** cublasComputeType_t: F32, and F32 with inputs rounded to TF32 on the tensor cores. */
    static final int COMPUTE_32F = 68, COMPUTE_32F_FAST_TF32 = 77;
    static final int GEMM_DEFAULT = -1;

    private final MethodHandle gemm;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment alpha, beta0, beta1;
    private final String library;

    Cublas(long stream) {
        Found f = find();
        library = f.name;
        Linker linker = Linker.nativeLinker();
        MethodHandle create = linker.downcallHandle(f.lookup.findOrThrow("cublasCreate_v2"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle setStream = linker.downcallHandle(f.lookup.findOrThrow("cublasSetStream_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        gemm = linker.downcallHandle(f.lookup.findOrThrow("cublasGemmStridedBatchedEx"), FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG,
                ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG,
                JAVA_INT, JAVA_INT, JAVA_INT));
        MemorySegment out = arena.allocate(ADDRESS);
        check("cublasCreate_v2", call(create, out));
        handle = out.get(ADDRESS, 0);
        check("cublasSetStream_v2", call(setStream, handle, MemorySegment.ofAddress(stream)));
        alpha = arena.allocateFrom(JAVA_FLOAT, 1f);
        beta0 = arena.allocateFrom(JAVA_FLOAT, 0f);
        beta1 = arena.allocateFrom(JAVA_FLOAT, 1f);
    }

    /**
     * Column-major C (m × n, ldc, F32) ← op(A)·op(B) (+ C when accumulate), per batch with the given strides;
     * A and B of type {@code abType}, F32 accumulation (CUBLAS_COMPUTE_32F).
     */
    void gemm(int transA, int transB, int m, int n, int k, long a, int abType, int lda, long strideA, long b, int ldb, long strideB,
              boolean accumulate, long c, int ldc, long strideC, int batch) {
        gemm(transA, transB, m, n, k, a, abType, lda, strideA, b, ldb, strideB, accumulate, c, ldc, strideC, batch, COMPUTE_32F);
    }

    /** As above with the cublasComputeType_t given ({@link #COMPUTE_32F} or {@link #COMPUTE_32F_FAST_TF32}). */
    void gemm(int transA, int transB, int m, int n, int k, long a, int abType, int lda, long strideA, long b, int ldb, long strideB,
              boolean accumulate, long c, int ldc, long strideC, int batch, int computeType) {
        int status;
        // A local of the exact type: a conditional expression passed straight to invokeExact is typed Object.
        MemorySegment beta = accumulate ? beta1 : beta0;
        try {
            status = (int) gemm.invokeExact(handle, transA, transB, m, n, k, alpha,
                    MemorySegment.ofAddress(a), abType, lda, strideA,
                    MemorySegment.ofAddress(b), abType, ldb, strideB,
                    beta, MemorySegment.ofAddress(c), R_32F, ldc, strideC,
                    batch, computeType, GEMM_DEFAULT);
        } catch (Throwable e) {
            throw new IllegalStateException("cublasGemmStridedBatchedEx could not be called: " + e, e);
        }
        if (status != 0) {
            throw new IllegalStateException("cublasGemmStridedBatchedEx failed with status " + status + " (m=" + m + " n=" + n + " k=" + k
                    + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc + " batch=" + batch + " type=" + abType + ")");
        }
    }

    String library() {
        return library;
    }

    private static int call(MethodHandle h, Object... args) {
        try {
            return (int) h.invokeWithArguments(args);
        } catch (Throwable e) {
            throw new IllegalStateException("cuBLAS call failed: " + e, e);
        }
    }

    private static void check(String what, int status) {
        if (status != 0) throw new IllegalStateException(what + " returned cuBLAS status " + status);
    }

    private record Found(SymbolLookup lookup, String name) {}

    private static Found find() {
        Arena global = Arena.global();
        List<String> tried = new ArrayList<>();
        String env = System.getenv("JTUNE_CUBLAS");
        if (env != null && !env.isBlank()) return new Found(SymbolLookup.libraryLookup(Path.of(env), global), env);
        for (String name : List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so")) {
            try {
                return new Found(SymbolLookup.libraryLookup(name, global), name);
            } catch (IllegalArgumentException e) {
                tried.add(name);
            }
        }
        for (String dir : candidateDirs()) {
            for (String name : List.of("libcublas.so.13", "libcublas.so.12")) {
                Path p = Path.of(dir, name);
                if (Files.exists(p)) return new Found(SymbolLookup.libraryLookup(p, global), p.toString());
            }
        }
        throw new IllegalStateException("cuBLAS not found (tried " + tried + " on the loader path and " + candidateDirs()
                + "): set JTUNE_CUBLAS to the libcublas.so file, with its folder on LD_LIBRARY_PATH");
    }

    private static List<String> candidateDirs() {
        List<String> dirs = new ArrayList<>(List.of("/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                "/usr/lib/x86_64-linux-gnu"));
        for (String v : List.of("13.0", "13.1", "12.9", "12.8", "12.6", "12.4")) dirs.add("/usr/local/cuda-" + v + "/lib64");
        return dirs;
    }
}
