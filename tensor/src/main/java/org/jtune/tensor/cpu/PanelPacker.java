package org.jtune.tensor.cpu;

import java.util.Arrays;

/**
 * Packs a block of a strided matrix into the contiguous strip layout the GEMM micro-kernel reads.
 * The source is seen as X (rows × depth): for A, rows are M and depth is K; for B, X is Bᵀ (rows are
 * N). Rows [r0, r0+rc) and depth [k0, k0+kc) become ⌈rc/w⌉ strips of w rows, each strip stored
 * depth-major: {@code dst[off + (s·kc + k)·w + i] = X(r0 + s·w + i, k0 + k)}, with rows past rc
 * zero-filled. Any strides and dtypes (F32, BF16, F16) are read, converting to F32 here, so transposed
 * operands and 16-bit weights need no separate pass.
 */
final class PanelPacker {
    private PanelPacker() {}

    /** Floats needed in dst for rc rows, kc deep, in strips of w. */
    static int packedSize(int rc, int kc, int w) {
        return (rc + w - 1) / w * w * kc;
    }

    /** Packs X(r0.., k0..) into dst; {@code scratch} holds at least kc floats. */
    static void pack(StridedMatrix x, int r0, int rc, int k0, int kc, int w, float[] dst, int off, float[] scratch) {
        int strips = (rc + w - 1) / w;
        if (x.colStride() == 1 || kc == 1) {
            packDepthContiguous(x, r0, rc, k0, kc, w, dst, off, scratch);
        } else if (x.rowStride() == 1) {
            // rows are contiguous: each (strip, k) is one run of up to w elements.
            for (int s = 0; s < strips; s++) {
                int rows = Math.min(w, rc - s * w);
                for (int k = 0; k < kc; k++) {
                    int o = off + (s * kc + k) * w;
                    x.readRun(x.index(r0 + s * w, k0 + k), rows, dst, o);
                    if (rows < w) Arrays.fill(dst, o + rows, o + w, 0f);
                }
            }
        } else {
            for (int s = 0; s < strips; s++) {
                for (int k = 0; k < kc; k++) {
                    int o = off + (s * kc + k) * w;
                    for (int i = 0; i < w; i++) {
                        int r = s * w + i;
                        dst[o + i] = r < rc ? x.at(x.index(r0 + r, k0 + k)) : 0f;
                    }
                }
            }
        }
    }

    /**
     * Whether strips whose width is a multiple of 16 (B's NR-wide strips) are packed 16 rows × 16 deep at a time through
     * a register transpose ({@link LaneTranspose}) instead of one scalar store per element 4·w bytes apart (the default;
     * {@code jtune.gemm.transposedPacking=false} restores the scalar scatter, for benchmarks that compare both). The
     * packed floats are the same either way.
     */
    static volatile boolean transposed = !"false".equals(System.getProperty("jtune.gemm.transposedPacking"));

    /** Scratch floats {@link #pack} needs for the transposed packing of kc-deep rows read through a segment or converted. */
    static int scratchSize(int kc) {
        return 16 * kc;
    }

    /** Depth is contiguous (a row-major A, or the (out, in) weight behind a transposed B): read each row, scatter by w. */
    private static void packDepthContiguous(StridedMatrix x, int r0, int rc, int k0, int kc, int w, float[] dst, int off, float[] scratch) {
        int strips = (rc + w - 1) / w;
        float[] src = x.floats();
        int done = 0;
        if (transposed && LaneTranspose.AVAILABLE && w % 16 == 0 && x.colStride() == 1 && kc >= 16) {
            done = packTransposed(x, r0, rc, k0, kc, w, dst, off, scratch);
        }
        for (int r = done; r < strips * w; r++) {
            int o = off + (r / w) * kc * w + r % w;
            if (r >= rc) {
                for (int k = 0; k < kc; k++) dst[o + k * w] = 0f;
                continue;
            }
            long start = x.index(r0 + r, k0);
            if (src != null && x.colStride() == 1) {
                int i = (int) start;
                for (int k = 0; k < kc; k++) dst[o + k * w] = src[i + k];
            } else if (x.colStride() == 1) {
                x.readRun(start, kc, scratch, 0);
                for (int k = 0; k < kc; k++) dst[o + k * w] = scratch[k];
            } else {
                for (int k = 0; k < kc; k++) dst[o + k * w] = x.at(start + k * x.colStride());
            }
        }
    }

    /**
     * Rows [0, rc − rc mod 16) in groups of 16 (w a multiple of 16, so a group lies in one strip): each 16 × 16 block
     * of depth [0, kc − kc mod 16) is transposed in registers into its strip ({@code dst[o + k·w + i]}), the depth
     * tail stored one by one. Heap F32 rows are read in place; other sources go through {@code scratch} 16 rows at a
     * time ({@link StridedMatrix#readRun}, which converts BF16/F16). Returns the rows packed.
     */
    private static int packTransposed(StridedMatrix x, int r0, int rc, int k0, int kc, int w, float[] dst, int off, float[] scratch) {
        int groups = rc / 16, kb = kc - kc % 16;
        float[] src = x.floats();
        boolean direct = src != null && x.rowStride() <= Integer.MAX_VALUE / 16;
        if (!direct && scratch.length < 16 * kc) return 0;
        for (int g = 0; g < groups; g++) {
            int r = g * 16, o = off + (r / w) * kc * w + r % w;
            float[] from;
            int base, ls;
            if (direct) {
                from = src;
                base = (int) x.index(r0 + r, k0);
                ls = (int) x.rowStride();
            } else {
                for (int i = 0; i < 16; i++) x.readRun(x.index(r0 + r + i, k0), kc, scratch, i * kc);
                from = scratch;
                base = 0;
                ls = kc;
            }
            for (int k = 0; k < kb; k += 16) LaneTranspose.transpose16(from, base + k, ls, dst, o + k * w, w);
            for (int i = 0; i < 16; i++) {
                for (int k = kb; k < kc; k++) dst[o + k * w + i] = from[base + i * ls + k];
            }
        }
        return groups * 16;
    }
}
