package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * llama.cpp's own model quantizer, {@code llama_model_quantize(in, out, params)} of the libllama.so that
 * node-llama-cpp ships (node-llama-cpp itself has no quantize command), called through FFM with the
 * x86-64 layout of llama.h's llama_model_quantize_params. Skips when the peer is absent.
 */
final class LlamaCppQuantizer implements AutoCloseable {
    private static final MemoryLayout PARAMS = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("nthread"), ValueLayout.JAVA_INT.withName("ftype"),
            ValueLayout.JAVA_INT.withName("output_tensor_type"), ValueLayout.JAVA_INT.withName("token_embedding_type"),
            MemoryLayout.sequenceLayout(6, ValueLayout.JAVA_BOOLEAN).withName("flags"), MemoryLayout.paddingLayout(2),
            ValueLayout.ADDRESS.withName("imatrix"), ValueLayout.ADDRESS.withName("kv_overrides"),
            ValueLayout.ADDRESS.withName("tt_overrides"), ValueLayout.ADDRESS.withName("prune_layers"),
            ValueLayout.JAVA_LONG.withName("max_buf_size"));
    private final Arena arena = Arena.ofShared();
    private final MethodHandle defaults;
    private final MethodHandle quantize;

    LlamaCppQuantizer() throws Exception {
        Path bins = LlamaCppPeer.require().resolve("node_modules/@node-llama-cpp/linux-x64/bins/linux-x64");
        Path lib;
        try (Stream<Path> s = Files.list(bins)) {
            lib = s.filter(p -> p.getFileName().toString().matches("libllama(\\.v[0-9.]+)?\\.so")).findFirst().orElse(null);
        }
        assumeTrue(lib != null, "skipped: no libllama*.so in " + bins);
        Linker linker = Linker.nativeLinker();
        SymbolLookup llama = SymbolLookup.libraryLookup(lib, arena);
        defaults = linker.downcallHandle(llama.find("llama_model_quantize_default_params").orElseThrow(), FunctionDescriptor.of(PARAMS));
        quantize = linker.downcallHandle(llama.find("llama_model_quantize").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    }

    /** Quantizes in to out as llama-quantize would with this llama_ftype (one thread); returns llama.cpp's status. */
    int quantize(Path in, Path out, int ftype) throws Throwable {
        MemorySegment p = (MemorySegment) defaults.invokeExact((SegmentAllocator) arena);
        p.set(ValueLayout.JAVA_INT, 0, 1);
        p.set(ValueLayout.JAVA_INT, 4, ftype);
        return (int) quantize.invokeExact(arena.allocateFrom(in.toString()), arena.allocateFrom(out.toString()), p);
    }

    @Override
    public void close() {
        arena.close();
    }
}
