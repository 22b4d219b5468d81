package org.jtune.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import java.lang.foreign.MemorySegment;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;

/**
 * Host↔device copies of contiguous bytes through two page-locked staging buffers of {@link #CHUNK} bytes:
 * uploading, the host fills one buffer while the DMA engine drains the other (cuMemcpyHtoDAsync on the
 * backend's stream, an event per buffer says when it may be refilled); downloading queues every chunk and
 * copies each out as its event completes. Pageable Java memory (heap arrays, mapped files) never goes to
 * the driver directly, which would make each copy synchronous and staged by the driver anyway. An upload
 * of at most {@link #SLOT} bytes (token ids, positions, masks: many per step) goes through a ring of
 * small pinned slots instead and returns as soon as it is queued, so the host keeps queueing work while
 * the device runs; the larger path waits for its copy to finish.
 */
final class PinnedStaging {
    static final long CHUNK = 8L << 20;
    private final CudaContext context;
    private final MemorySegment[] host = new MemorySegment[2];
    private final Pointer[] pinned = new Pointer[2];
    private final CUevent[] done = new CUevent[2];
    /** A ring of small pinned slots for uploads of at most SLOT bytes, which return without waiting for the copy. */
    static final int SLOTS = 64;
    static final long SLOT = 64L << 10;
    private final Pointer[] slotPinned = new Pointer[SLOTS];
    private final MemorySegment[] slotHost = new MemorySegment[SLOTS];
    private final CUevent[] slotDone = new CUevent[SLOTS];
    private int nextSlot;

    PinnedStaging(CudaContext context) {
        this.context = context;
        context.enter();
        for (int i = 0; i < SLOTS; i++) slotHost[i] = pinnedBuffer(slotPinned, slotDone, i, SLOT);
        for (int i = 0; i < 2; i++) host[i] = pinnedBuffer(pinned, done, i, CHUNK);
    }

    /** Page-locks {@code bytes} into pointers[i] with a completed event in events[i]; returns the host view. */
    private MemorySegment pinnedBuffer(Pointer[] pointers, CUevent[] events, int i, long bytes) {
        pointers[i] = new Pointer();
        cuMemAllocHost(pointers[i], bytes);
        events[i] = new CUevent();
        cuEventCreate(events[i], CUevent_flags.CU_EVENT_DISABLE_TIMING);
        cuEventRecord(events[i], context.stream());
        return MemorySegment.ofBuffer(pointers[i].getByteBuffer(0, bytes));
    }

    /** Device bytes at {@code dst} ← {@code src} (host, any kind of segment); returns when src may be reused. */
    synchronized void upload(MemorySegment src, DevicePointer dst) {
        long t0 = System.nanoTime();
        context.enter();
        long n = src.byteSize();
        if (n <= SLOT) { // small (ids, positions, masks, scalars): staged in a slot, queued, not waited for
            int i = nextSlot;
            nextSlot = (nextSlot + 1) % SLOTS;
            cuEventSynchronize(slotDone[i]); // the slot's previous copy has left it (long ago, in a ring of SLOTS)
            MemorySegment.copy(src, 0, slotHost[i], 0, n);
            cuMemcpyHtoDAsync(dst, slotPinned[i], n, context.stream());
            cuEventRecord(slotDone[i], context.stream());
            context.hostCall("upload (small, queued)", t0, n);
            return;
        }
        int k = 0;
        for (long off = 0; off < n; off += CHUNK, k ^= 1) {
            long len = Math.min(CHUNK, n - off);
            cuEventSynchronize(done[k]);
            MemorySegment.copy(src, off, host[k], 0, len);
            cuMemcpyHtoDAsync(dst.plus(off), pinned[k], len, context.stream());
            cuEventRecord(done[k], context.stream());
        }
        cuEventSynchronize(done[0]);
        cuEventSynchronize(done[1]);
        context.hostCall("upload (waits for the stream)", t0, n);
    }

    /** {@code dst} (host) ← device bytes at {@code src}, after everything queued before on the stream. */
    synchronized void download(DevicePointer src, MemorySegment dst) {
        long t0 = System.nanoTime();
        context.enter();
        long n = dst.byteSize();
        long pending = -1;
        int k = 0;
        for (long off = 0; off < n; off += CHUNK, k ^= 1) {
            long len = Math.min(CHUNK, n - off);
            cuEventSynchronize(done[k]); // this buffer's previous chunk was copied out below
            cuMemcpyDtoHAsync(pinned[k], src.plus(off), len, context.stream());
            cuEventRecord(done[k], context.stream());
            if (pending >= 0) drain(k ^ 1, pending, dst);
            pending = off;
        }
        if (pending >= 0) drain(k ^ 1, pending, dst);
        context.hostCall("download (waits for the stream)", t0, n);
    }

    private void drain(int buffer, long off, MemorySegment dst) {
        cuEventSynchronize(done[buffer]);
        MemorySegment.copy(host[buffer], 0, dst, off, Math.min(CHUNK, dst.byteSize() - off));
    }
}
