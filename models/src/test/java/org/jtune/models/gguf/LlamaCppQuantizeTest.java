package org.jtune.models.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jtune.quant.GgmlType;
import org.jtune.quant.gguf.GgufFile;
import org.jtune.quant.gguf.GgufReader;
import org.jtune.quant.gguf.GgufTensorInfo;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The other direction: GGUF files made by llama.cpp's own quantizer ({@code llama_model_quantize} in the
 * libllama.so node-llama-cpp ships, called through FFM — node-llama-cpp has no quantize command) from
 * jtune's F32 export of stories260K, read with GgufReader. Every tensor llama.cpp stored in the same type as
 * jtune's own export of that type has the very same bytes (both use ggml's reference quantizers), and
 * llama.cpp chose the same per-tensor types (fallbacks included).
 */
class LlamaCppQuantizeTest {
    @TempDir
    Path tmp;

    @Test
    void llamaCppQuantizedFilesReadBackAndMatchOurBytes() throws Throwable {
        Path model = SharedData.require("models/stories260K");
        Path peer = LlamaCppPeer.require();
        Path bins = peer.resolve("node_modules/@node-llama-cpp/linux-x64/bins/linux-x64");
        Path lib;
        try (Stream<Path> s = Files.list(bins)) {
            lib = s.filter(p -> p.getFileName().toString().matches("libllama(\\.v[0-9.]+)?\\.so")).findFirst().orElse(null);
        }
        assumeTrue(lib != null, "skipped: no libllama*.so in " + bins);
        Path f32 = tmp.resolve("f32.gguf");
        HfToGguf.export(model, GgmlType.F32, f32);
        List<String> report = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            Linker linker = Linker.nativeLinker();
            SymbolLookup llama = SymbolLookup.libraryLookup(lib, arena);
            MemoryLayout params = MemoryLayout.structLayout(                 // llama.h llama_model_quantize_params (x86-64)
                    ValueLayout.JAVA_INT.withName("nthread"), ValueLayout.JAVA_INT.withName("ftype"),
                    ValueLayout.JAVA_INT.withName("output_tensor_type"), ValueLayout.JAVA_INT.withName("token_embedding_type"),
                    MemoryLayout.sequenceLayout(6, ValueLayout.JAVA_BOOLEAN).withName("flags"), MemoryLayout.paddingLayout(2),
                    ValueLayout.ADDRESS.withName("imatrix"), ValueLayout.ADDRESS.withName("kv_overrides"),
                    ValueLayout.ADDRESS.withName("tt_overrides"), ValueLayout.ADDRESS.withName("prune_layers"),
                    ValueLayout.JAVA_LONG.withName("max_buf_size"));
            MethodHandle defaults = linker.downcallHandle(llama.find("llama_model_quantize_default_params").orElseThrow(),
                    FunctionDescriptor.of(params));
            MethodHandle quantize = linker.downcallHandle(llama.find("llama_model_quantize").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0}) {
                MemorySegment p = (MemorySegment) defaults.invokeExact((java.lang.foreign.SegmentAllocator) arena);
                p.set(ValueLayout.JAVA_INT, 0, 1);                                   // nthread
                p.set(ValueLayout.JAVA_INT, 4, HfToGguf.fileType(type));             // ftype
                Path theirs = tmp.resolve("llamacpp-" + type + ".gguf");
                int rc = (int) quantize.invokeExact(arena.allocateFrom(f32.toString()), arena.allocateFrom(theirs.toString()), p);
                assertEquals(0, rc, "llama_model_quantize " + type);
                Path ours = tmp.resolve("jtune-" + type + ".gguf");
                HfToGguf.export(model, type, ours);
                int same = 0;
                try (GgufFile a = GgufReader.open(theirs); GgufFile b = GgufReader.open(ours)) {
                    assertEquals(HfToGguf.fileType(type), a.metadata().getLong("general.file_type"));
                    assertEquals(b.tensors().size(), a.tensors().size());
                    for (GgufTensorInfo t : a.tensors()) {
                        GgufTensorInfo o = b.tensor(t.name());
                        assertEquals(o.type(), t.type(), type + " " + t.name() + ": llama.cpp chose " + t.type() + ", jtune " + o.type());
                        assertArrayEquals(o.dims(), t.dims(), t.name());
                        assertArrayEquals(b.data(o).toArray(ValueLayout.JAVA_BYTE), a.data(t).toArray(ValueLayout.JAVA_BYTE),
                                type + " " + t.name() + " (" + t.type() + ") bytes");
                        same++;
                    }
                }
                report.add(type + ": " + same + " tensors byte-identical");
            }
        }
        assertTrue(report.size() == 2);
        System.out.println("[llama_model_quantize vs jtune] " + String.join("; ", report));
    }
}
