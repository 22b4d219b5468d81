package org.jtune.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;

import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import jcuda.CudaException;
import org.jtune.tensor.Device;

/**
 * The device memory of one CUDA backend: blocks of rounded sizes (512 B steps up to 1 MiB, 2 MiB steps
 * above) kept on free lists when their tensors die, so a training step's buffers are reused instead of
 * going back to cuMemAlloc/cuMemFree, which synchronise the device. Cached blocks beyond
 * {@code cacheLimit} bytes are freed. When an allocation fails the cache is emptied, the garbage
 * collector runs once to return unreachable blocks, and it is tried again before an error names the
 * sizes. Blocks of at most {@link #SMALL_MAX} bytes are carved from {@link #SLAB}-byte allocations (a
 * decode step asks for hundreds of small buffers, and each cuMemAlloc costs microseconds of host time);
 * carved blocks go back to their own free lists and their slabs are never freed. Plain device
 * allocations only (no managed memory).
 */
final class CudaMemoryPool {
    private static final Cleaner CLEANER = Cleaner.create();
    private final CudaContext context;
    private final Device device;
    private final long cacheLimit;
    static final long SMALL_MAX = 1L << 20, SLAB = 2L << 20;
    private final Map<Long, ArrayDeque<DevicePointer>> free = new HashMap<>();
    private final Map<Long, ArrayDeque<DevicePointer>> carved = new HashMap<>();
    private long cached, inUse;

    CudaMemoryPool(CudaContext context, Device device, long cacheLimit) {
        this.context = context;
        this.device = device;
        this.cacheLimit = cacheLimit;
    }

    /** The size a request of {@code bytes} is served with. */
    static long rounded(long bytes) {
        long b = Math.max(bytes, 1);
        long step = b <= (1L << 20) ? 512 : 2L << 20;
        return (b + step - 1) / step * step;
    }

    /** A block of at least {@code bytes} (contents undefined). */
    CudaMemory allocate(long bytes) {
        long size = rounded(bytes);
        DevicePointer p = size <= SMALL_MAX ? takeCarved(size) : take(size);
        if (p == null) p = size <= SMALL_MAX ? carve(size) : fresh(size);
        synchronized (this) {
            inUse += size;
        }
        CudaMemory m = new CudaMemory(device, p, size);
        DevicePointer ptr = p;
        m.onRelease(CLEANER.register(m, () -> giveBack(ptr, size)));
        return m;
    }

    private synchronized DevicePointer take(long size) {
        ArrayDeque<DevicePointer> q = free.get(size);
        if (q == null || q.isEmpty()) return null;
        cached -= size;
        return q.pop();
    }

    private synchronized DevicePointer takeCarved(long size) {
        ArrayDeque<DevicePointer> q = carved.get(size);
        return q == null || q.isEmpty() ? null : q.pop();
    }

    /** A new slab cut into blocks of {@code size}: one is returned, the others wait on the carved list. */
    private DevicePointer carve(long size) {
        DevicePointer slab = fresh(SLAB);
        synchronized (this) {
            ArrayDeque<DevicePointer> q = carved.computeIfAbsent(size, k -> new ArrayDeque<>());
            for (long off = size; off + size <= SLAB; off += size) q.push(slab.plus(off));
        }
        return slab;
    }

    private synchronized void giveBack(DevicePointer p, long size) {
        inUse -= size;
        if (size <= SMALL_MAX) {
            carved.computeIfAbsent(size, k -> new ArrayDeque<>()).push(p);
            return;
        }
        free.computeIfAbsent(size, k -> new ArrayDeque<>()).push(p);
        cached += size;
        // Blocks over the cache limit are freed by the next allocating thread (cuMemFree needs the context).
    }

    private DevicePointer fresh(long size) {
        long t0 = System.nanoTime();
        context.enter();
        trimTo(cacheLimit);
        try {
            DevicePointer p = alloc(size);
            context.hostCall("cuMemAlloc (pool miss)", t0, size);
            return p;
        } catch (CudaException first) {
            trimTo(0);
            System.gc();
            try {
                Thread.sleep(50); // let the cleaner return blocks whose tensors the collection found dead
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            DevicePointer again = take(size);
            if (again != null) return again;
            trimTo(0);
            try {
                return alloc(size);
            } catch (CudaException second) {
                long[] freeB = new long[1], total = new long[1];
                cuMemGetInfo(freeB, total);
                throw new IllegalStateException(device + " is out of memory: asked for " + size + " B with " + freeB[0] + " B free of "
                        + total[0] + " (" + inUse + " B held by live tensors)", second);
            }
        }
    }

    private static DevicePointer alloc(long size) {
        DevicePointer p = new DevicePointer();
        cuMemAlloc(p, size);
        return p;
    }

    /** Frees cached blocks until at most {@code limit} bytes stay cached. */
    private void trimTo(long limit) {
        while (true) {
            DevicePointer victim;
            synchronized (this) {
                if (cached <= limit) return;
                victim = null;
                for (Map.Entry<Long, ArrayDeque<DevicePointer>> e : free.entrySet()) {
                    if (!e.getValue().isEmpty()) {
                        victim = e.getValue().pop();
                        cached -= e.getKey();
                        break;
                    }
                }
                if (victim == null) return;
            }
            cuMemFree(victim);
        }
    }

    synchronized long bytesInUse() {
        return inUse;
    }

    synchronized long bytesCached() {
        return cached;
    }
}
