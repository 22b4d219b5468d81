package org.jtune.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUevent;
import jcuda.driver.CUstream;

/**
 * Where a CUDA backend's time goes, while switched on ({@link CudaBackend#profile}): every queued call
 * (kernel launch, cuBLAS product, device copy or fill) is bracketed by two CUDA events on the stream, so
 * its device time is read exactly once the stream has run; the host time spent issuing it is summed
 * beside. Host-side work that stalls the stream (uploads, downloads, fresh cuMemAlloc) is counted with
 * its host time. {@link #report} synchronises, then returns per-name totals sorted by device time and the
 * sums, against the wall time since {@link #start}: a device busy for a small part of the wall means the
 * host (launch overhead, synchronisations) is the bottleneck. Not thread-safe beyond the backend's own
 * single stream; off by default and free when off.
 */
final class CudaProfiler {
    private record Mark(String name, int event, long hostNanos) {}

    private static final class Total {
        long count, hostNanos, bytes;
        double deviceMs;
    }

    private final List<CUevent> events = new ArrayList<>();
    private final List<Mark> marks = new ArrayList<>();
    private final Map<String, Total> host = new LinkedHashMap<>();
    private long wallStart, openHost;
    private int used;

    void start() {
        marks.clear();
        host.clear();
        used = 0;
        wallStart = System.nanoTime();
    }

    /** Records the start event of a queued call; {@link #end} closes it. */
    synchronized void begin(CUstream stream) {
        cuEventRecord(event(used), stream);
        openHost = System.nanoTime();
    }

    synchronized void end(String name, CUstream stream) {
        long h = System.nanoTime() - openHost;
        cuEventRecord(event(used + 1), stream);
        marks.add(new Mark(name, used, h));
        used += 2;
    }

    /** A host-side call that is not queued (upload, download, allocation): count, host time and bytes. */
    synchronized void hostCall(String name, long nanos, long bytes) {
        Total t = host.computeIfAbsent(name, k -> new Total());
        t.count++;
        t.hostNanos += nanos;
        t.bytes += bytes;
    }

    private CUevent event(int i) {
        while (events.size() <= i) {
            CUevent e = new CUevent();
            cuEventCreate(e, 0);
            events.add(e);
        }
        return events.get(i);
    }

    /** Totals since start(); the caller has synchronised the stream. */
    synchronized Map<String, Object> report(int top) {
        double wallMs = (System.nanoTime() - wallStart) / 1e6;
        Map<String, Total> byName = new LinkedHashMap<>();
        float[] ms = new float[1];
        double busy = 0, issue = 0;
        for (Mark m : marks) {
            cuEventElapsedTime(ms, events.get(m.event), events.get(m.event + 1));
            Total t = byName.computeIfAbsent(m.name, k -> new Total());
            t.count++;
            t.deviceMs += ms[0];
            t.hostNanos += m.hostNanos;
            busy += ms[0];
            issue += m.hostNanos / 1e6;
        }
        List<Map.Entry<String, Total>> sorted = new ArrayList<>(byName.entrySet());
        sorted.sort(Comparator.comparingDouble((Map.Entry<String, Total> e) -> e.getValue().deviceMs).reversed());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (var e : sorted.subList(0, Math.min(top, sorted.size()))) {
            rows.add(Map.of("name", e.getKey(), "count", e.getValue().count, "device_ms", round(e.getValue().deviceMs),
                    "issue_ms", round(e.getValue().hostNanos / 1e6)));
        }
        Map<String, Object> hostCalls = new LinkedHashMap<>();
        host.forEach((k, t) -> hostCalls.put(k, Map.of("count", t.count, "host_ms", round(t.hostNanos / 1e6), "bytes", t.bytes)));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("wall_ms", round(wallMs));
        r.put("device_busy_ms", round(busy));
        r.put("queued_calls", marks.size());
        r.put("issue_ms", round(issue));
        r.put("host_calls", hostCalls);
        r.put("top", rows);
        return r;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
