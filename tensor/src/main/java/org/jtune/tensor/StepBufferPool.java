package org.jtune.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A {@link BufferPool} for training steps: the host buffers a step's ops allocate (activations, the
 * graph's saved tensors, gradients flowing back, the logits) are kept and handed out again, zeroed,
 * to the requests of the same dtype and size in later steps (not zeroed for an output its op writes whole), so that a steady training loop stops
 * allocating large arrays and the JVM's heap stays near the step's live data instead of growing with
 * its garbage.
 *
 * <p>Use: {@code pool.step(() -> forwardAndBackward())}. When the body returns, every buffer lent in
 * it returns to the pool: nothing the body allocated may be used after it (read the loss with
 * {@code item()} inside; allocate what must outlive the step — gradient buffers, optimizer state,
 * caches — under {@link BufferPool#outside}). Within a step a buffer comes back as soon as the GC
 * finds that no tensor holds it any more (each loan is a fresh {@link Storage} wrapper watched by a
 * weak reference; the pool keeps the memory itself), so activations the backward pass has released
 * can serve later requests of the same step. A caller that knows what is still in use can hand the rest back at once
 * ({@link BufferPool#keepOnly}): an inference step does so after each layer, whose only live output is the hidden
 * state, so a step needs one layer's intermediates instead of all of them (a 1024-token prefill of the TinyLlama-1.1B
 * shape lent 1.4 GB without it; with a fresh pool it took 15.5–18.5 s, 5.8–7 s of it in young collections that
 * promoted the loans into new old-generation pages, against 10.3–10.7 s with it, 2026-12-06).
 *
 * <p>Buffers not used in a whole step are dropped at its end (shapes that changed, e.g. a padded batch
 * of another length, do not pile up). Host requests under {@link #MIN_BYTES} are left to the backend.
 * Device backends are served the same way: the pool keeps their {@link DeviceMemory} and zeroes a kept
 * buffer with the backend's own fill, so a GPU's step reuses its memory without waiting for the GC to
 * find dead tensors (a device's ops run in order on its queue, so a buffer released by one op can
 * back the next op's output). Safe for allocations from several threads.
 *
 * <p>A budget bounds the memory the pool keeps (on loan and idle). A loan comes back only when a collection
 * finds its wrapper unreachable, and an activation that lived through a layer's forward and backward is in the
 * old generation, which only a full collection visits; so between two full collections every new request
 * misses, and a pool without a bound grows to hold what a whole step allocates rather than what it keeps
 * live (the TinyLlama-1.1B shape with checkpointing: 11.2 GB live after a full collection over 4.4 GB of weights,
 * 2026-12-04). A miss
 * that would pass the budget first drops idle buffers of other sizes, oldest first; if that is not enough,
 * the request is left to the backend (plain memory the collector reclaims).
 */
public final class StepBufferPool implements BufferPool {
    /** Smaller host requests are cheaper for the JVM's allocator than for a pool (a device allocation never is). */
    public static final long MIN_BYTES = 64 << 10;

    private record Key(Device device, DType dtype, long numel) {}

    /** Whether trainers run their steps in a pool: on unless -Djtune.stepPool=false (for comparisons). */
    public static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty("jtune.stepPool", "true"));
    }

    /** Host or device memory the pool keeps: a MemorySegment or a backend's DeviceMemory. */
    private record Memory(MemorySegment host, DeviceMemory device) {
        long byteSize() {
            return host != null ? host.byteSize() : device.byteSize();
        }

        Storage wrap() {
            return host != null ? Storage.wrap(host) : Storage.onDevice(device);
        }

        static Memory of(Storage s) {
            return s.isHost() ? new Memory(s.segment(), null) : new Memory(null, s.deviceMemory());
        }
    }

    /** One buffer on loan: the wrapper the tensors hold is watched, the memory stays with the pool. */
    private static final class Loan extends WeakReference<Storage> {
        final Key key;
        final Memory memory;
        boolean returned;

        Loan(Storage lent, Key key, Memory memory, ReferenceQueue<Storage> queue) {
            super(lent, queue);
            this.key = key;
            this.memory = memory;
        }
    }

    private record Idle(Memory memory, long lastStep) {}

    private final Map<Key, ArrayDeque<Idle>> idle = new HashMap<>();
    private final List<Loan> loans = new ArrayList<>();
    private final ReferenceQueue<Storage> released = new ReferenceQueue<>();
    private final long budgetBytes;
    private long step;
    private long pooledBytes, reused, fresh, unpooled;

    /** A pool without a bound on the memory it keeps (small models, devices). */
    public StepBufferPool() {
        this(Long.MAX_VALUE);
    }

    /** A pool that keeps at most {@code budgetBytes} of memory; trainers pass their memory plan's activations. */
    public StepBufferPool(long budgetBytes) {
        if (budgetBytes <= 0) throw new IllegalArgumentException("step pool budget must be > 0 bytes, got " + budgetBytes);
        this.budgetBytes = budgetBytes;
    }

    @Override
    public synchronized Storage take(Backend backend, DType dtype, long numel, boolean zeroed) {
        boolean host = backend.device().isHost();
        if (host && numel * dtype.byteSize() < MIN_BYTES) return null;
        if (!host && numel > Integer.MAX_VALUE) return null; // zeroed as one tensor below
        reclaimReleased();
        Key key = new Key(backend.device(), dtype, numel);
        ArrayDeque<Idle> q = idle.get(key);
        Idle free = q == null ? null : q.pollLast();
        Memory memory;
        Storage lent;
        if (free != null) {
            memory = free.memory();
            lent = memory.wrap();
            if (zeroed && memory.host() != null) memory.host().fill((byte) 0); // not zeroed: Backend.allocateOutput's op overwrites it
            else if (zeroed) backend.fill(new Tensor(lent, dtype, new int[] {(int) numel}, new long[] {1}, 0), 0f);
            reused++;
        } else {
            if (!makeRoom(numel * dtype.byteSize())) {
                unpooled++;
                return null; // over the budget: the backend allocates it outside the pool
            }
            memory = Memory.of(zeroed ? backend.allocateStorage(dtype, numel) : backend.allocateStorageForOverwrite(dtype, numel));
            lent = memory.wrap();
            pooledBytes += memory.byteSize();
            fresh++;
        }
        loans.add(new Loan(lent, key, memory, released));
        return lent;
    }

    /** Runs {@code body} as one step: its allocations come from this pool and all return to it when it ends. */
    public <T> T step(Supplier<T> body) {
        try {
            return BufferPool.during(this, body);
        } finally {
            endStep();
        }
    }

    @Override
    public synchronized void takeBackAllBut(Storage keep) {
        for (Loan l : loans) {
            if (l.returned || l.get() == keep) continue;
            l.clear();
            giveBack(l);
        }
        loans.removeIf(l -> l.returned);
    }

    /** Takes back every buffer lent since the last step ended, and drops those the ended step did not use. */
    public synchronized void endStep() {
        while (released.poll() != null) {
            // the loans still listed below are all taken back in the loop; polled ones already were
        }
        for (Loan l : loans) {
            l.clear();
            giveBack(l);
        }
        loans.clear();
        for (Iterator<ArrayDeque<Idle>> it = idle.values().iterator(); it.hasNext(); ) {
            ArrayDeque<Idle> q = it.next();
            q.removeIf(i -> {
                boolean stale = i.lastStep() < step;
                if (stale) pooledBytes -= i.memory().byteSize();
                return stale;
            });
            if (q.isEmpty()) it.remove();
        }
        step++;
    }

    /** Whether {@code bytes} more fit the budget, after dropping idle buffers (oldest first) as far as needed. */
    private boolean makeRoom(long bytes) {
        if (pooledBytes + bytes <= budgetBytes) return true;
        List<ArrayDeque<Idle>> queues = new ArrayList<>(idle.values());
        while (pooledBytes + bytes > budgetBytes) {
            ArrayDeque<Idle> oldest = null;
            for (ArrayDeque<Idle> q : queues) {
                if (!q.isEmpty() && (oldest == null || q.peekFirst().lastStep() < oldest.peekFirst().lastStep())) oldest = q;
            }
            if (oldest == null) return false; // everything the pool holds is on loan
            pooledBytes -= oldest.pollFirst().memory().byteSize();
        }
        idle.values().removeIf(ArrayDeque::isEmpty);
        return true;
    }

    /** Bytes of memory the pool holds (on loan or idle). */
    public synchronized long pooledBytes() {
        return pooledBytes;
    }

    /**
     * Requests served from a kept buffer, requests that needed new pooled memory, and requests left to the
     * backend because the budget was full, since the pool was made.
     */
    public synchronized long[] counts() {
        return new long[] {reused, fresh, unpooled};
    }

    /** The loan's memory back on the idle lists of its size, last used in this step. */
    private void giveBack(Loan l) {
        l.returned = true;
        idle.computeIfAbsent(l.key, k -> new ArrayDeque<>()).addLast(new Idle(l.memory, step));
    }

    /** Loans whose wrapper the GC found unreachable go back to the idle lists before the step ends. */
    private void reclaimReleased() {
        boolean any = false;
        for (Object r; (r = released.poll()) != null; ) {
            Loan l = (Loan) r;
            if (l.returned) continue;
            giveBack(l);
            any = true;
        }
        if (any) loans.removeIf(l -> l.returned);
    }
}
