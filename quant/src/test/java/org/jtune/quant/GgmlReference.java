package org.jtune.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Locale;

/**
 * ggml's own row quantizers and dequantizers, called through the FFM API in the libggml-base.so that
 * node-llama-cpp ships: {@code quantize_row_<type>_ref(const float *, void *, int64_t)} and
 * {@code dequantize_row_<type>(const void *, float *, int64_t)}. The oracle of the bit-exactness tests.
 */
final class GgmlReference implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final SymbolLookup lookup;
    private final Linker linker = Linker.nativeLinker();

    GgmlReference(Path libDir) {
        lookup = SymbolLookup.libraryLookup(libDir.resolve("libggml-base.so"), arena);
    }

    private MethodHandle handle(String name) {
        MemorySegment symbol = lookup.find(name).orElseThrow(() -> new AssertionError("libggml-base.so has no " + name));
        return linker.downcallHandle(symbol, FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    }

    /** ggml's quantize_row_*_ref bytes of row. */
    byte[] quantize(GgmlType type, float[] row) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocateFrom(ValueLayout.JAVA_FLOAT, row);
            MemorySegment dst = a.allocate(type.rowBytes(row.length));
            handle("quantize_row_" + name(type) + "_ref").invokeExact(src, dst, (long) row.length);
            return dst.toArray(ValueLayout.JAVA_BYTE);
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }

    /** ggml's dequantize_row_* floats of a quantized row of n elements. */
    float[] dequantize(GgmlType type, byte[] row, int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocateFrom(ValueLayout.JAVA_BYTE, row);
            MemorySegment dst = a.allocate(4L * n);
            handle("dequantize_row_" + name(type)).invokeExact(src, dst, (long) n);
            return dst.toArray(ValueLayout.JAVA_FLOAT);
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }

    /** ggml's ggml_fp32_to_fp16_row / ggml_fp32_to_bf16_row (F16, BF16). */
    byte[] convert(GgmlType type, float[] row) {
        String name = type == GgmlType.F16 ? "ggml_fp32_to_fp16_row" : "ggml_fp32_to_bf16_row";
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocateFrom(ValueLayout.JAVA_FLOAT, row);
            MemorySegment dst = a.allocate(2L * row.length);
            handle(name).invokeExact(src, dst, (long) row.length);
            return dst.toArray(ValueLayout.JAVA_BYTE);
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }

    private static String name(GgmlType type) {
        String n = type.name().toLowerCase(Locale.ROOT);
        return n.endsWith("_k") ? n.substring(0, n.length() - 2) + "_K" : n;
    }

    @Override
    public void close() {
        arena.close();
    }
}
