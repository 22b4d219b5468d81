package org.jtune.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jtune.tensor.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * The step pool: a later step of the same shapes is served from the buffers of the first (no new
 * memory), every buffer it hands out is zeroed, results equal those computed without a pool, what is
 * allocated outside the pool is never lent, small requests are left to the backend, buffers of
 * shapes a step no longer uses are dropped at its end, and a budget bounds what the pool keeps.
 */
class StepBufferPoolTest {
    private static final int ROWS = 64, COLS = 512; // 128 KiB of F32: above the pool's minimum

    private static float[] work(Tensor a) {
        Tensor y = Ops.add(Ops.scale(a, 2f), a);
        return Ops.mul(y, y).toFloatArray();
    }

    @Test
    void laterStepsReuseTheFirstStepsBuffersAndGetTheSameResults() {
        Tensor a = Tensor.uniform(new Rng(5), -1f, 1f, ROWS, COLS);
        float[] expected = work(a);
        StepBufferPool pool = new StepBufferPool();
        assertArrayEquals(expected, pool.step(() -> work(a)));
        long fresh = pool.counts()[1];
        long bytes = pool.pooledBytes();
        assertTrue(fresh >= 2, "the first step allocates its buffers: " + fresh);
        for (int s = 0; s < 3; s++) assertArrayEquals(expected, pool.step(() -> work(a)), "step " + s);
        assertEquals(fresh, pool.counts()[1], "no new memory after the first step");
        assertTrue(pool.counts()[0] >= 3 * fresh, "later steps are served from kept buffers");
        assertEquals(bytes, pool.pooledBytes());
    }

    @Test
    void deviceBuffersAreKeptAndHandedOutZeroedByTheBackend() {
        Backend sim = SimulatedDevice.INSTANCE;
        Tensor a = Tensor.uniform(new Rng(6), -1f, 1f, ROWS, COLS);
        float[] expected = work(a);
        Tensor onSim = a.to(SimulatedDevice.DEVICE);
        StepBufferPool pool = new StepBufferPool();
        assertArrayEquals(expected, pool.step(() -> Ops.using(sim, () -> work(onSim))));
        long fresh = pool.counts()[1];
        assertTrue(fresh >= 2, "the device step's outputs came from the pool: " + fresh);
        assertArrayEquals(expected, pool.step(() -> Ops.using(sim, () -> work(onSim))));
        assertEquals(fresh, pool.counts()[1], "the second device step needs no new memory");
        Tensor dirty = pool.step(() -> {
            Tensor t = sim.allocate(DType.F32, ROWS, COLS);
            sim.fill(t, 3f);
            return t;
        });
        Tensor again = pool.step(() -> sim.allocate(DType.F32, ROWS, COLS));
        assertSame(dirty.storage().deviceMemory(), again.storage().deviceMemory(), "the same device memory, lent again");
        for (float v : again.toFloatArray()) assertEquals(0f, v);
    }

    @Test
    void aKeptBufferIsHandedOutZeroed() {
        StepBufferPool pool = new StepBufferPool();
        Tensor first = pool.step(() -> {
            Tensor t = CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS);
            CpuBackend.INSTANCE.fill(t, 7f);
            return t;
        });
        Tensor second = pool.step(() -> CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS));
        assertSame(first.storage().segment(), second.storage().segment(), "the same memory, lent again");
        for (float v : second.toFloatArray()) assertEquals(0f, v);
    }

    /** Between two layers of an inference step everything lent but the hidden state goes back, and the next layer reuses it. */
    @Test
    void keepOnlyTakesBackAllButTheKeptTensorWithinAStep() {
        StepBufferPool pool = new StepBufferPool();
        pool.step(() -> {
            Tensor scratch = CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS), hidden = CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS);
            CpuBackend.INSTANCE.fill(hidden, 3f);
            BufferPool.keepOnly(hidden.view(COLS, ROWS)); // a view keeps its storage
            Tensor next = CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS), another = CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS);
            assertSame(scratch.storage().segment(), next.storage().segment(), "the scratch buffer, lent again in the same step");
            assertNotSame(hidden.storage().segment(), another.storage().segment(), "the kept buffer stays on loan");
            CpuBackend.INSTANCE.fill(another, 5f);
            for (float v : hidden.toFloatArray()) assertEquals(3f, v);
            return null;
        });
        assertEquals(3, pool.counts()[1], "three buffers made, one reused");
        assertEquals(1, pool.counts()[0]);
    }

    @Test
    void outsideAndSmallRequestsAreNotLent() {
        StepBufferPool pool = new StepBufferPool();
        Tensor kept = pool.step(() -> BufferPool.outside(() -> CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS)));
        Tensor small = pool.step(() -> CpuBackend.INSTANCE.allocate(DType.F32, 4, 4));
        assertEquals(0, pool.pooledBytes());
        Tensor lent = pool.step(() -> CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS));
        assertNotSame(kept.storage().segment(), lent.storage().segment());
        assertEquals(16, small.numel());
    }

    @Test
    void buffersOfShapesAStepNoLongerUsesAreDropped() {
        StepBufferPool pool = new StepBufferPool();
        pool.step(() -> CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS));
        long one = pool.pooledBytes();
        pool.step(() -> CpuBackend.INSTANCE.allocate(DType.F32, ROWS, 2 * COLS));
        assertEquals(2 * one, pool.pooledBytes(), "the first shape was not used by the second step");
        pool.step(() -> CpuBackend.INSTANCE.allocate(DType.F32, ROWS, 2 * COLS));
        assertEquals(2 * one, pool.pooledBytes());
    }

    @Test
    void aBudgetBoundsWhatThePoolKeepsAndDropsIdleBuffersOfOtherSizesFirst() {
        long one = (long) ROWS * COLS * 4;
        StepBufferPool pool = new StepBufferPool(2 * one);
        pool.step(() -> {
            Tensor a = CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS);
            Tensor b = CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS);
            Tensor c = CpuBackend.INSTANCE.allocate(DType.F32, ROWS, COLS); // all three on loan: the third is the backend's
            for (Tensor t : new Tensor[] {a, b, c}) assertEquals(ROWS * COLS, t.numel());
            return null;
        });
        assertEquals(2 * one, pool.pooledBytes(), "two kept, the third left to the backend");
        assertEquals(1, pool.counts()[2]);
        // a step of another size: the idle buffers of the first size make room for it instead of being added to
        Tensor wide = pool.step(() -> CpuBackend.INSTANCE.allocate(DType.F32, ROWS, 2 * COLS));
        assertEquals(2 * one, pool.pooledBytes(), "the budget still holds");
        assertEquals(2 * ROWS * COLS, wide.numel());
        assertEquals(1, pool.counts()[2], "served from the pool after dropping the idle buffers");
        Tensor again = pool.step(() -> CpuBackend.INSTANCE.allocate(DType.F32, ROWS, 2 * COLS));
        assertSame(wide.storage().segment(), again.storage().segment(), "the wide buffer is kept and lent again");
    }
}
