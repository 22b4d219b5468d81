package org.jtune.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;
import org.jtune.tensor.DType;
import org.jtune.tensor.Parallel;
import org.jtune.tensor.Rng;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;
import org.jtune.tensor.cpu.CpuBackend;

/**
 * The decode GEMV from DRAM, beside a plain read loop in the same JVM ({@code gemv_mapped} lines of `jtune bench gemv`):
 * {@value #WEIGHTS} F32 weights of 1×2048×5632 (1.1 GB, more than the last-level cache) written once to a temporary file
 * and memory-mapped as a checkpoint is, the tensor data starting 8 bytes past a cache line as safetensors' may; each pass
 * multiplies one row by every weight once. Five contenders alternate pass by pass: the GEMV with its exact-segment
 * loads (the default), the GEMV loading through the mapping's own segment (the path before; the JVM's type profiles
 * of segment loads have by then seen arena and mapped segments, as in a decode after `bench decode`'s bandwidth loops),
 * the GEMV reading four weight rows at a time (before it read one at a time, {@code CpuBackend.setSingleStreamGemv}),
 * a vector sum of the same bytes split across the pool like a kernel, and OpenBLAS SGEMV on the same mapped bytes
 * (its own threads set to the same count). Each line: GB/s of weight read per pass
 * (median of the passes after two warm-up passes), at 1 and 2 threads, and at 1 thread also per CPU second of the
 * calling thread, which a loaded machine disturbs less than the wall clock. Skipped with
 * {@code -Djtune.bench.gemv.mapped=false}; {@code -Djtune.bench.gemv.mappedOnly=true} runs these lines alone.
 */
final class MappedGemvBandwidth {
    private static final int K = 2048, N = 5632, WEIGHTS = 24, PASSES = 9, LEAD = 8;
    private static final long WEIGHT_BYTES = 4L * K * N;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final String[] WAYS = {"gemv_exact_segment", "gemv_own_segment", "gemv_four_streams", "read_sum", "openblas_sgemv"};
    private static volatile float sink;

    private MappedGemvBandwidth() {}

    static void run(boolean json) throws Exception {
        Path file = Files.createTempFile("jtune-bench-gemv-", ".bin");
        try {
            long bytes = WEIGHTS * WEIGHT_BYTES;
            write(file, LEAD + bytes);
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, LEAD + bytes, arena).asSlice(LEAD);
                Tensor x = Tensor.uniform(new Rng(11), -1f, 1f, 1, K), out = Tensor.zeros(1, N);
                Tensor[] w = new Tensor[WEIGHTS];
                for (int i = 0; i < WEIGHTS; i++) {
                    w[i] = new Tensor(Storage.wrap(mapped), DType.F32, new int[] {N, K}, new long[] {K, 1}, i * (long) K * N);
                }
                // SGEMV reads the same mapped bytes in place (JavaCPP pointers over direct buffers of the mapping, no copy)
                FloatPointer[] blas = new FloatPointer[WEIGHTS];
                for (int i = 0; i < WEIGHTS; i++) {
                    blas[i] = new FloatPointer(mapped.asSlice(i * WEIGHT_BYTES, WEIGHT_BYTES).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
                }
                FloatPointer xp = new FloatPointer(x.storage().floatArray()), yp = new FloatPointer((long) N);
                for (int threads : new int[] {1, 2}) {
                    Parallel.setThreads(threads);
                    String load = LoadAverage.read();
                    OpenBlasPeer.setThreads(threads);
                    double[][] wall = new double[WAYS.length][PASSES], cpu = new double[WAYS.length][PASSES];
                    for (int pass = 0; pass < PASSES; pass++) {
                        for (int way = 0; way < WAYS.length; way++) {
                            long t0 = System.nanoTime(), c0 = mx.getCurrentThreadCpuTime();
                            if (way < 3) {
                                CpuBackend.setExactSegmentGemv(way != 1);
                                CpuBackend.setSingleStreamGemv(way == 2 ? Boolean.FALSE : null);
                                for (Tensor wi : w) CpuBackend.INSTANCE.matmul(x, wi.t(), out, false);
                            } else if (way == 3) {
                                readAll(mapped, bytes, threads);
                            } else {
                                for (FloatPointer wi : blas) sgemv(wi, xp, yp);
                            }
                            wall[way][pass] = bytes / ((System.nanoTime() - t0) * 1e-9) * 1e-9;
                            cpu[way][pass] = bytes / ((mx.getCurrentThreadCpuTime() - c0) * 1e-9) * 1e-9;
                        }
                    }
                    CpuBackend.setExactSegmentGemv(true);
                    CpuBackend.setSingleStreamGemv(null);
                    for (int way = 0; way < WAYS.length; way++) {
                        ResultLine line = new ResultLine().put("bench", "gemv_mapped").put("m", 1).put("k", K).put("n", N)
                                .put("b_dtype", "f32").put("weights_gb", bytes * 1e-9).put("threads", threads).put("path", WAYS[way])
                                .put("gb_per_s", median(wall[way]));
                        if (threads == 1) line.put("gb_per_cpu_s", median(cpu[way]));
                        line.put("gb_per_s_passes", Arrays.toString(Arrays.stream(wall[way]).map(v -> Math.round(v * 10) / 10.0).toArray()))
                                .put("load", load).print(json);
                    }
                }
            }
        } finally {
            CpuBackend.setExactSegmentGemv(true);
            CpuBackend.setSingleStreamGemv(null);
            Files.deleteIfExists(file);
        }
    }

    /** y ← W·x for one (N, K) row-major weight: OpenBLAS's matrix-vector product. */
    private static void sgemv(FloatPointer w, FloatPointer x, FloatPointer y) {
        openblas.cblas_sgemv(openblas.CblasRowMajor, openblas.CblasNoTrans, N, K, 1f, w, K, x, 1, 0f, y, 1);
    }

    /** LEAD zero bytes, then random floats in [-0.5, 0.5), to {@code size} bytes. */
    private static void write(Path file, long size) throws Exception {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.allocate(LEAD));
            ByteBuffer block = ByteBuffer.allocate(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
            Rng rng = new Rng(13);
            while (block.hasRemaining()) block.putFloat(rng.nextFloat() - 0.5f);
            for (long done = LEAD; done < size; ) {
                block.clear().limit((int) Math.min(block.capacity(), size - done));
                done += ch.write(block);
            }
        }
    }

    /** A vector sum over bytes [0, bytes) of s, cut into 8 ranges per thread as a kernel would be. */
    private static void readAll(MemorySegment s, long bytes, int threads) {
        int chunks = 8 * threads;
        long unit = 4L * S.vectorByteSize();
        float[] sums = new float[chunks];
        Parallel.forRange(chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) sums[c] = sum(s, bytes * c / chunks / unit * unit, bytes * (c + 1) / chunks / unit * unit);
        });
        float total = 0;
        for (float f : sums) total += f;
        sink = total;
    }

    /**
     * Sum of the floats in bytes [from, to) of s (a multiple of four vectors), four independent accumulators, loaded through
     * a segment of exact class made here (as the GEMV's loads are): through s itself, the loads would follow the JVM's
     * shared type profiles, which the contenders above have filled with two segment classes, and the reference would slow.
     * Also `bench decode`'s read-bandwidth loop.
     */
    static float sum(MemorySegment s, long from, long to) {
        java.util.Objects.checkFromToIndex(from, to, s.byteSize());
        MemorySegment r = MemorySegment.ofAddress(s.address() + from).reinterpret(to - from);
        long vec = S.vectorByteSize(), end = to - from;
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        for (long o = 0; o < end; o += 4 * vec) {
            s0 = s0.add(FloatVector.fromMemorySegment(S, r, o, ByteOrder.LITTLE_ENDIAN));
            s1 = s1.add(FloatVector.fromMemorySegment(S, r, o + vec, ByteOrder.LITTLE_ENDIAN));
            s2 = s2.add(FloatVector.fromMemorySegment(S, r, o + 2 * vec, ByteOrder.LITTLE_ENDIAN));
            s3 = s3.add(FloatVector.fromMemorySegment(S, r, o + 3 * vec, ByteOrder.LITTLE_ENDIAN));
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    }

    private static double median(double[] passes) {
        double[] s = Arrays.copyOfRange(passes, 2, passes.length);
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
