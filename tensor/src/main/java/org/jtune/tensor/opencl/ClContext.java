package org.jtune.tensor.opencl;

import static org.jocl.CL.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;
import org.jtune.tensor.Device;
import org.jtune.tensor.DeviceUnavailableException;

/**
 * One OpenCL device opened for jtune: its context, one in-order command queue, and the kernels of the
 * families in {@link #FAMILIES} (OpenCL C sources under resources {@code org/jtune/tensor/opencl/}, each
 * built once with {@code common.cl} prepended; a source that does not compile is an error carrying the
 * compiler's build log and naming the file and device). Devices are numbered over every platform in
 * order (opencl:0 is the first device of the first platform). Launches are serialised (a cl_kernel's
 * arguments are shared state); every error names the device and the kernel.
 */
final class ClContext {
    static final String[] FAMILIES = {"copy", "elementwise", "rows", "loss_index", "gemm", "attention"};

    final Device device;
    final String description;
    final boolean fp64;
    private final cl_context context;
    private final cl_command_queue queue;
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final cl_mem nullBuffer;

    private ClContext(Device device, String description, cl_device_id id, boolean fp64) throws DeviceUnavailableException {
        this.device = device;
        this.description = description;
        this.fp64 = fp64;
        cl_context_properties props = new cl_context_properties();
        this.context = clCreateContext(props, 1, new cl_device_id[] {id}, null, null, null);
        this.queue = clCreateCommandQueue(context, id, 0, null);
        String options = "-cl-fp32-correctly-rounded-divide-sqrt" + (fp64 ? " -DJT_FP64" : "");
        String common = source("common");
        for (String family : FAMILIES) build(family, common + "\n" + source(family), id, options);
        this.nullBuffer = clCreateBuffer(context, CL_MEM_READ_WRITE, 16, null, null);
    }

    /** The devices of every platform, in order, each with a description "NAME (PLATFORM)". */
    record Found(cl_device_id id, String description, boolean fp64) {}

    static List<Found> devices() {
        setExceptionsEnabled(true);
        int[] n = new int[1];
        List<Found> out = new ArrayList<>();
        try {
            clGetPlatformIDs(0, null, n);
        } catch (CLException e) {
            return out; // CL_PLATFORM_NOT_FOUND_KHR: an ICD loader without platforms
        }
        cl_platform_id[] platforms = new cl_platform_id[n[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        for (cl_platform_id p : platforms) {
            int[] nd = new int[1];
            try {
                clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, nd);
            } catch (CLException e) {
                continue; // CL_DEVICE_NOT_FOUND
            }
            cl_device_id[] ids = new cl_device_id[nd[0]];
            clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ids.length, ids, null);
            String platform = platformString(p, CL_PLATFORM_NAME);
            for (cl_device_id id : ids) {
                String ext = deviceString(id, CL_DEVICE_EXTENSIONS);
                out.add(new Found(id, deviceString(id, CL_DEVICE_NAME) + " (" + platform + ")", ext.contains("cl_khr_fp64")));
            }
        }
        return out;
    }

    /** Opens device {@code index} of {@link #devices()}; the error says what this machine has instead. */
    static ClContext open(int index) throws DeviceUnavailableException {
        Device d = new Device("opencl", index);
        List<Found> found;
        try {
            found = devices();
        } catch (LinkageError | CLException e) {
            throw new DeviceUnavailableException("device " + d + " is not available: the OpenCL runtime could not be loaded ("
                    + e.getMessage() + "); JOCL loads libOpenCL.so: install an OpenCL driver and the ICD loader with that name (on Debian: pocl-opencl-icd ocl-icd-opencl-dev)", e);
        }
        if (index >= found.size()) {
            StringBuilder have = new StringBuilder();
            for (int i = 0; i < found.size(); i++) have.append(i == 0 ? "" : ", ").append("opencl:").append(i).append(" = ").append(found.get(i).description());
            throw new DeviceUnavailableException("device " + d + " is not available: this machine has " + found.size() + " OpenCL device"
                    + (found.size() == 1 ? "" : "s") + (found.isEmpty() ? " (no OpenCL platform: install an OpenCL driver, e.g. pocl-opencl-icd)" : " (" + have + ")"));
        }
        Found f = found.get(index);
        warnWithoutSignalChaining();
        try {
            return new ClContext(d, f.description(), f.id(), f.fp64());
        } catch (CLException e) {
            throw new DeviceUnavailableException("device " + d + " (" + f.description() + ") could not be opened: " + e.getMessage(), e);
        }
    }

    /**
     * An OpenCL driver built on LLVM (PoCL) installs one-shot SIGSEGV, SIGBUS, SIGILL and SIGFPE handlers over the JVM's
     * when it compiles kernels; the JVM takes SIGSEGV for its implicit null checks, and two traps close together then kill
     * the process (exit 139, no crash report: a test JVM died so). The JDK's libjsig, preloaded, keeps the JVM's handlers
     * first; the jtune launcher and the test runs preload it. Embedders are told once, on stderr.
     */
    private static void warnWithoutSignalChaining() {
        String preload = System.getenv("LD_PRELOAD");
        if (WARNED.getAndSet(true) || (preload != null && preload.contains("libjsig"))) return;
        System.err.println("jtune: an OpenCL driver may replace the JVM's signal handlers; start this JVM with LD_PRELOAD="
                + Path.of(System.getProperty("java.home"), "lib", "libjsig.so") + " (the jtune launcher does)");
    }

    private static final java.util.concurrent.atomic.AtomicBoolean WARNED = new java.util.concurrent.atomic.AtomicBoolean();

    private void build(String family, String src, cl_device_id id, String options) throws DeviceUnavailableException {
        cl_program program = clCreateProgramWithSource(context, 1, new String[] {src}, null, null);
        try {
            clBuildProgram(program, 1, new cl_device_id[] {id}, options, null, null);
        } catch (CLException e) {
            long[] size = new long[1];
            clGetProgramBuildInfo(program, id, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] log = new byte[(int) size[0]];
            clGetProgramBuildInfo(program, id, CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
            throw new DeviceUnavailableException(device + " (" + description + "): the OpenCL kernels of " + family + ".cl do not compile ("
                    + e.getMessage() + "):\n" + new String(log, StandardCharsets.UTF_8).strip());
        }
        int[] count = new int[1];
        clCreateKernelsInProgram(program, 0, null, count);
        cl_kernel[] ks = new cl_kernel[count[0]];
        clCreateKernelsInProgram(program, ks.length, ks, null);
        for (cl_kernel k : ks) {
            long[] size = new long[1];
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, 0, null, size);
            byte[] name = new byte[(int) size[0]];
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, name.length, Pointer.to(name), null);
            kernels.put(new String(name, 0, Math.max(0, name.length - 1), StandardCharsets.US_ASCII), k);
        }
    }

    private static String source(String family) throws DeviceUnavailableException {
        String path = "/org/jtune/tensor/opencl/" + family + ".cl";
        try (InputStream in = ClContext.class.getResourceAsStream(path)) {
            if (in == null) throw new DeviceUnavailableException("the OpenCL kernel source " + path + " is missing from the jtune jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DeviceUnavailableException("cannot read the OpenCL kernel source " + path + ": " + e.getMessage(), e);
        }
    }

    // ---- memory ------------------------------------------------------------------------------------

    /** A new zeroed buffer of {@code bytes} (at least 4: OpenCL refuses empty buffers). */
    ClMemory allocate(long bytes) {
        long size = Math.max(4, (bytes + 3) & ~3L);
        try {
            synchronized (this) {
                cl_mem m = clCreateBuffer(context, CL_MEM_READ_WRITE, size, null, null);
                clEnqueueFillBuffer(queue, m, Pointer.to(new int[] {0}), Sizeof.cl_int, 0, size, 0, null, null);
                return new ClMemory(m, bytes, device);
            }
        } catch (CLException e) {
            throw new IllegalStateException(device + " (" + description + "): cannot allocate " + bytes + " bytes: " + e.getMessage(), e);
        }
    }

    /** A read-only buffer holding {@code values} (layouts: rank, shape, strides). */
    ClMemory constants(long[] values) {
        synchronized (this) {
            cl_mem m = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, (long) values.length * Sizeof.cl_long,
                    Pointer.to(values), null);
            return new ClMemory(m, (long) values.length * Sizeof.cl_long, device);
        }
    }

    /** Host → device, blocking (the host memory may be reused when this returns). */
    synchronized void write(cl_mem dst, long byteOffset, Pointer src, long bytes) {
        if (bytes == 0) return;
        try {
            clEnqueueWriteBuffer(queue, dst, CL_TRUE, byteOffset, bytes, src, 0, null, null);
        } catch (CLException e) {
            throw new IllegalStateException(device + ": copy of " + bytes + " bytes to the device failed: " + e.getMessage(), e);
        }
    }

    /** Device → host, blocking (after every command queued before it). */
    synchronized void read(cl_mem src, long byteOffset, Pointer dst, long bytes) {
        if (bytes == 0) return;
        try {
            clEnqueueReadBuffer(queue, src, CL_TRUE, byteOffset, bytes, dst, 0, null, null);
        } catch (CLException e) {
            throw new IllegalStateException(device + ": copy of " + bytes + " bytes to the host failed: " + e.getMessage(), e);
        }
    }

    /** Device → device bytes. */
    synchronized void copyBytes(cl_mem src, long srcOffset, cl_mem dst, long dstOffset, long bytes) {
        if (bytes == 0) return;
        clEnqueueCopyBuffer(queue, src, dst, srcOffset, dstOffset, bytes, 0, null, null);
    }

    // ---- kernels -----------------------------------------------------------------------------------

    /**
     * Runs {@code kernel} over {@code global} work-items (1-D, in work-groups of 64), or over a 2-D
     * range with the given local size. Arguments: {@link ClMemory} or null (a buffer), Integer, Long, Float.
     */
    void launch(String kernel, long global, Object... args) {
        // A fixed work-group size (kernels skip the work-items past their range): PoCL compiles one work-group
        // function per kernel and local size, so letting the runtime choose compiled a variant per tensor size.
        if (global > 0) launch(kernel, new long[] {(global + GROUP - 1) / GROUP * GROUP}, new long[] {GROUP}, args);
    }

    private static final long GROUP = 64;

    synchronized void launch(String kernel, long[] global, long[] local, Object... args) {
        cl_kernel k = kernels.get(kernel);
        if (k == null) throw new IllegalStateException(device + ": no OpenCL kernel named " + kernel);
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case null -> clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(nullBuffer));
                    case ClMemory m -> clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(m.mem));
                    case Integer v -> clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[] {v}));
                    case Long v -> clSetKernelArg(k, i, Sizeof.cl_long, Pointer.to(new long[] {v}));
                    case Float v -> clSetKernelArg(k, i, Sizeof.cl_float, Pointer.to(new float[] {v}));
                    default -> throw new IllegalArgumentException("kernel " + kernel + ": argument " + i + " of type " + args[i].getClass());
                }
            }
            clEnqueueNDRangeKernel(queue, k, global.length, null, global, local, 0, null, null);
        } catch (CLException e) {
            throw new IllegalStateException(device + " (" + description + "): kernel " + kernel + " failed: " + e.getMessage(), e);
        }
    }

    /** Waits for every queued command. */
    synchronized void finish() {
        clFinish(queue);
    }

    private static String deviceString(cl_device_id id, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(id, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetDeviceInfo(id, param, b.length, Pointer.to(b), null);
        return new String(b, 0, Math.max(0, b.length - 1), StandardCharsets.UTF_8).strip();
    }

    private static String platformString(cl_platform_id id, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(id, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetPlatformInfo(id, param, b.length, Pointer.to(b), null);
        return new String(b, 0, Math.max(0, b.length - 1), StandardCharsets.UTF_8).strip();
    }
}
