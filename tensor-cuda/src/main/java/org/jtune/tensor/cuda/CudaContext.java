package org.jtune.tensor.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream_flags;

/**
 * One CUDA device as the backend uses it: its primary context (shared with cuBLAS, which runs on the
 * runtime API), one non-blocking stream on which every kernel, copy and GEMM is queued in order (so a
 * buffer returned to the pool can be reused by the next op without a synchronisation), and the PTX
 * modules of {@link CudaKernels}, loaded once with cuModuleLoadData for the device's architecture.
 * {@link #launch} checks each call's arguments against the kernel's {@link KernelSpec}.
 */
public final class CudaContext {
    private final int index;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final DevicePointer.Stream stream = new DevicePointer.Stream();
    private final String name;
    private final int major, minor, multiprocessors, arch;
    private final long totalMemory;
    private final Map<KernelSpec, CUfunction> functions = new HashMap<>();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);
    /** Non-null while profiling ({@link CudaBackend#profile}). */
    volatile CudaProfiler profiler;

    private CudaContext(int index) {
        this.index = index;
        cuDeviceGet(device, index);
        byte[] nameBytes = new byte[256];
        cuDeviceGetName(nameBytes, nameBytes.length, device);
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) len++;
        name = new String(nameBytes, 0, len, StandardCharsets.UTF_8);
        major = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        minor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        long[] mem = new long[1];
        cuDeviceTotalMem(mem, device);
        totalMemory = mem[0];
        arch = PtxResources.archFor(major, minor);
        cuDevicePrimaryCtxRetain(context, device);
        enter();
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        Map<String, CUmodule> modules = new HashMap<>();
        for (String m : CudaKernels.modules()) {
            CUmodule module = new CUmodule();
            cuModuleLoadData(module, PtxResources.load(m, arch));
            modules.put(m, module);
        }
        for (KernelSpec k : CudaKernels.ALL) {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, modules.get(k.module()), k.name());
            functions.put(k, f);
        }
    }

    /**
     * Starts device {@code index}: an error saying why when the driver is missing, the index is out of range,
     * the device is older than sm_80 or the PTX was not built.
     */
    public static CudaContext open(int index) throws CudaUnavailableException {
        CudaDriver.Probe p = CudaDriver.probe();
        if (!p.available()) throw new CudaUnavailableException("cuda:" + index + " is not available: " + p.reason());
        if (index >= p.devices()) {
            throw new CudaUnavailableException("cuda:" + index + " is not available: the CUDA driver sees " + p.devices() + " device(s)");
        }
        try {
            return new CudaContext(index);
        } catch (RuntimeException e) {
            throw new CudaUnavailableException("cuda:" + index + " could not start: " + CudaDriver.firstLine(e), e);
        }
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attr, device);
        return v[0];
    }

    /** Makes the context current on the calling thread (once per thread). */
    void enter() {
        if (!current.get()) {
            cuCtxSetCurrent(context);
            current.set(true);
        }
    }

    /** Queues {@code spec} on the stream; args are Long (PTR, I64), Integer, Float or byte[] (STRUCT), in the spec's order. */
    public void launch(KernelSpec spec, LaunchConfig cfg, Object... args) {
        List<KernelSpec.Param> params = spec.params();
        if (args.length != params.size()) {
            throw new IllegalArgumentException(spec.name() + " takes " + params.size() + " arguments, got " + args.length);
        }
        Pointer[] ptrs = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            ptrs[i] = switch (params.get(i)) {
                case PTR, I64 -> a instanceof Long l ? Pointer.to(new long[] {l}) : bad(spec, i, a);
                case I32 -> a instanceof Integer v ? Pointer.to(new int[] {v}) : bad(spec, i, a);
                case F32 -> a instanceof Float v ? Pointer.to(new float[] {v}) : bad(spec, i, a);
                case STRUCT -> a instanceof byte[] b ? Pointer.to(b) : bad(spec, i, a);
            };
        }
        enter();
        CUfunction f = functions.get(spec);
        if (f == null) throw new IllegalStateException("kernel " + spec.name() + " is not loaded (not in CudaKernels.ALL)");
        Pointer kernelParams = Pointer.to(ptrs);
        CudaProfiler p = profiler;
        if (p != null) p.begin(stream);
        cuLaunchKernel(f, cfg.gridX(), cfg.gridY(), cfg.gridZ(), cfg.block(), 1, 1, cfg.sharedBytes(), stream, kernelParams, null);
        if (p != null) p.end(spec.name(), stream);
    }

    /** Runs {@code call} (which queues work on the stream) bracketed for the profiler under {@code name}, when profiling. */
    void queued(String name, Runnable call) {
        enter();
        CudaProfiler p = profiler;
        if (p == null) {
            call.run();
            return;
        }
        p.begin(stream);
        call.run();
        p.end(name, stream);
    }

    /** Counts a host-side call that holds the stream (upload, download, allocation) when profiling. */
    void hostCall(String name, long startNanos, long bytes) {
        CudaProfiler p = profiler;
        if (p != null) p.hostCall(name, System.nanoTime() - startNanos, bytes);
    }

    private static Pointer bad(KernelSpec spec, int i, Object a) {
        throw new IllegalArgumentException(spec.name() + " argument " + i + " must be " + spec.params().get(i) + ", got "
                + (a == null ? "null" : a.getClass().getSimpleName()));
    }

    /** Waits until everything queued on the stream has run; a kernel fault surfaces here as an exception. */
    public void synchronize() {
        enter();
        cuStreamSynchronize(stream);
    }

    DevicePointer.Stream stream() {
        return stream;
    }

    public int index() {
        return index;
    }

    public String name() {
        return name;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    public long totalMemory() {
        return totalMemory;
    }

    /** The PTX architecture loaded (80 or 90). */
    public int arch() {
        return arch;
    }

    public String computeCapability() {
        return major + "." + minor;
    }
}
