package org.jtune.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;
import org.bytedeco.openblas.presets.openblas_nolapack;

/**
 * OpenBLAS SGEMM (through JavaCPP's bundled native library) as the peer of our GEMM: C (M, N) ←
 * A (M, K) · B, row-major, with B either (K, N) or a (N, K) weight used transposed as a Linear layer
 * does. For M = 1 it calls SGEMV, the routine a BLAS user would pick for a matrix-vector product.
 * Operands live in native memory, copied once at construction, so a call measures only the multiply.
 *
 * <p>OpenBLAS's run-time CPU detection picks its AVX2 (Haswell) kernels on this AVX-512 machine
 * (2048³ on one thread: 117 GFLOP/s, against 234 with OPENBLAS_CORETYPE=SKYLAKEX, measured
 * 2026-11-28; this machine's environment even sets OPENBLAS_CORETYPE=Haswell). On a CPU with AVX-512
 * the bench therefore sets OPENBLAS_CORETYPE=SKYLAKEX through libc setenv before the library loads,
 * so the peer is OpenBLAS at its best here, not a handicapped one. JTUNE_OPENBLAS_CORETYPE overrides.
 *
 * <p>OpenBLAS's worker threads spin for 2^28 cycles (~0.1 s) after each call before they sleep, so with the calls
 * alternating, our two-thread GEMM ran while an OpenBLAS worker held one of the two cores: 512×2048×2048 measured
 * 138 GFLOP/s on two threads, as on one, in the bench, and 311 alone (2026-12-04, quiet). The bench sets
 * OPENBLAS_THREAD_TIMEOUT=4 (2^4 cycles, OpenBLAS's minimum) the same way unless the environment sets it; OpenBLAS's
 * own figures do not depend on it (its workers are woken per call either way).
 */
final class OpenBlasPeer implements AutoCloseable {
    private final int m, k, n;
    private final boolean weightLayout;
    private final FloatPointer a, b, c;

    /** a: M×K row-major; b: K×N row-major, or N×K when {@code weightLayout}. */
    OpenBlasPeer(float[] a, float[] b, int m, int k, int n, boolean weightLayout) {
        this.m = m;
        this.k = k;
        this.n = n;
        this.weightLayout = weightLayout;
        this.a = new FloatPointer(a);
        this.b = new FloatPointer(b);
        this.c = new FloatPointer((long) m * n);
    }

    private static final String CORETYPE = chooseCoreType();
    private static final String THREAD_TIMEOUT = System.getenv("OPENBLAS_THREAD_TIMEOUT") != null
            ? System.getenv("OPENBLAS_THREAD_TIMEOUT") : setenv("OPENBLAS_THREAD_TIMEOUT", "4") ? "4" : "default";

    private static String chooseCoreType() {
        String want = System.getenv("JTUNE_OPENBLAS_CORETYPE");
        boolean avx512 = false;
        try {
            avx512 = Files.readString(Path.of("/proc/cpuinfo")).contains(" avx512f");
        } catch (Exception e) {
            // not Linux: leave OpenBLAS's own detection in charge
        }
        if (want == null && !avx512) return System.getenv().getOrDefault("OPENBLAS_CORETYPE", "auto");
        if (want == null) want = "SKYLAKEX";
        return setenv("OPENBLAS_CORETYPE", want) ? want : System.getenv().getOrDefault("OPENBLAS_CORETYPE", "auto");
    }

    /** libc setenv, for OpenBLAS to read when it loads (Java's environment is read-only); whether it worked. */
    private static boolean setenv(String name, String value) {
        try (Arena arena = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            return (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 1) == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    /** OpenBLAS's own thread count (its pool, separate from ours). */
    static void setThreads(int threads) {
        openblas_nolapack.blas_set_num_threads(threads);
    }

    static String describe() {
        return openblas.OPENBLAS_VERSION.strip() + ", OPENBLAS_CORETYPE=" + CORETYPE + ", OPENBLAS_THREAD_TIMEOUT=" + THREAD_TIMEOUT;
    }

    void run() {
        if (m == 1 && weightLayout) {
            openblas.cblas_sgemv(openblas.CblasRowMajor, openblas.CblasNoTrans, n, k, 1f, b, k, a, 1, 0f, c, 1);
        } else {
            openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, weightLayout ? openblas.CblasTrans : openblas.CblasNoTrans,
                    m, n, k, 1f, a, k, b, weightLayout ? k : n, 0f, c, n);
        }
    }

    String routine() {
        return m == 1 && weightLayout ? "sgemv" : "sgemm";
    }

    float[] result() {
        float[] out = new float[m * n];
        c.get(out);
        return out;
    }

    @Override
    public void close() {
        a.close();
        b.close();
        c.close();
    }
}
