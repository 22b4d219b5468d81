package org.jtune.tensor.cuda;

/**
 * Grid, block and dynamic shared memory of one launch, and the arithmetic that sizes them for each kind
 * of kernel (the constants mirror the {@code #define}s of the CUDA sources: 256-thread blocks, attention's
 * ATT_WARPS and ATT_TILE, the GEMV's QGEMV_WARPS). Pure arithmetic, tested without a GPU.
 */
public record LaunchConfig(int gridX, int gridY, int gridZ, int block, int sharedBytes) {
    public static final int THREADS = 256;
    public static final int ATT_WARPS = 4;
    public static final int ATT_TILE = 32;
    public static final int ATT_MAX_D = 128;
    public static final int QGEMV_WARPS = 8;
    /** flash.cu: query rows per block of the forward and dq entries (4 warps of 16 rows). */
    public static final int FLASH_BLOCK_ROWS = 64;
    /** Elements per block of the squared-norm partial sums (one double per chunk, added in order on the host). */
    public static final int SQUARES_CHUNK = 1 << 16;

    public LaunchConfig {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || block < 1 || block > 1024 || sharedBytes < 0) {
            throw new IllegalArgumentException("bad launch configuration " + gridX + "x" + gridY + "x" + gridZ + " × " + block
                    + " threads, " + sharedBytes + " B shared");
        }
        if (gridY > 65535 || gridZ > 65535) throw new IllegalArgumentException("grid y/z above 65535: " + gridY + ", " + gridZ);
    }

    /**
     * A grid-stride loop over n elements: enough blocks to cover n once, at most {@code wavesPerSm}
     * blocks per multiprocessor (the loop covers the rest); at least one block.
     */
    public static LaunchConfig gridStride(long n, int multiprocessors) {
        long blocks = ceilDiv(Math.max(n, 1), THREADS);
        long cap = (long) multiprocessors * 32;
        return new LaunchConfig((int) Math.max(1, Math.min(blocks, cap)), 1, 1, THREADS, 0);
    }

    /** One block of {@link #THREADS} per row. */
    public static LaunchConfig perRow(long rows) {
        if (rows > Integer.MAX_VALUE) throw new IllegalArgumentException("too many rows for one launch: " + rows);
        return new LaunchConfig((int) Math.max(1, rows), 1, 1, THREADS, 0);
    }

    /** One thread per item (row or column), {@link #THREADS} per block. */
    public static LaunchConfig perThread(long items) {
        return new LaunchConfig((int) Math.max(1, ceilDiv(items, THREADS)), 1, 1, THREADS, 0);
    }

    /** One warp per row, {@code warpsPerBlock} rows per block. */
    public static LaunchConfig perWarp(long rows, int warpsPerBlock) {
        return new LaunchConfig((int) Math.max(1, ceilDiv(rows, warpsPerBlock)), 1, 1, 32 * warpsPerBlock, 0);
    }

    /** Attention forward and dq: grid (⌈T/ATT_WARPS⌉, Hq, B); K and V tiles of (D+1) columns, the block's q (and dOut) rows. */
    public static LaunchConfig attentionRows(int b, int t, int hq, int d, boolean withGrad) {
        checkHeadDim(d);
        int floats = 2 * ATT_TILE * (d + 1) + (withGrad ? 2 : 1) * ATT_WARPS * d;
        return new LaunchConfig((int) ceilDiv(t, ATT_WARPS), hq, b, 32 * ATT_WARPS, 4 * floats);
    }

    /** Attention dk/dv: grid (⌈S/ATT_WARPS⌉, Hkv, B); q and dOut tiles, the block's k and v rows, lse and Δ of a tile. */
    public static LaunchConfig attentionKeys(int b, int s, int hkv, int d) {
        checkHeadDim(d);
        int floats = 2 * ATT_TILE * (d + 1) + 2 * ATT_WARPS * d + 2 * ATT_TILE;
        return new LaunchConfig((int) ceilDiv(s, ATT_WARPS), hkv, b, 32 * ATT_WARPS, 4 * floats);
    }

    /** flash.cu forward and dq: one block of 4 warps per 64 query rows of each query head of each batch row. */
    public static LaunchConfig flashQueries(int b, int t, int hq) {
        return new LaunchConfig((int) Math.max(1, ceilDiv(t, FLASH_BLOCK_ROWS)), hq, b, 128, 0);
    }

    /** flash.cu dk/dv: one block of 16-row warps per 64 (head dim 64: 4 warps) or 32 (128: 2 warps) key rows of each kv head. */
    public static LaunchConfig flashKeys(int b, int s, int hkv, int d) {
        int rows = d == 64 ? 64 : 32;
        return new LaunchConfig((int) Math.max(1, ceilDiv(s, rows)), hkv, b, 2 * rows, 0);
    }

    static void checkHeadDim(int d) {
        if (d < 1 || d > ATT_MAX_D) throw new IllegalArgumentException("cuda attention supports head dims 1.." + ATT_MAX_D + ", got " + d);
    }

    public static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
