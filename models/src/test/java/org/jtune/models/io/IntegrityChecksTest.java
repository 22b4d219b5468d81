package org.jtune.models.io;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.CausalLM;
import org.jtune.models.TinyModelFolders;
import org.jtune.models.TinyModels;
import org.jtune.models.arch.Architectures;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.Sequence;
import org.jtune.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11's checks on weights: NaN/Inf refused when loaded and before anything is written, a model
 * folder written whole (never new shards beside an old index, never over its source), a weight file
 * truncated under jtune either harmless (small files are copied) or reported by name (large ones are
 * mapped and watched), and a huge max_new_tokens that no longer allocates its whole history.
 */
class IntegrityChecksTest {
    @Test
    void nonFiniteWeightsAreRefusedAtLoadNamingTensorAndElement(@TempDir Path tmp) throws Exception {
        Path dir = TinyModelFolders.write(tmp.resolve("nan"), 1, w -> w.get("model.layers.1.mlp.up_proj.weight").set(Float.NaN, 7, 3));
        JtuneException e = assertThrows(JtuneException.class, () -> Architectures.load(dir));
        assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight holds NaN at [7, 3]"), e.getMessage());
        Path inf = TinyModelFolders.write(tmp.resolve("inf"), 1, w -> w.get("model.norm.weight").set(Float.NEGATIVE_INFINITY, 0));
        e = assertThrows(JtuneException.class, () -> Architectures.load(inf));
        assertTrue(e.getMessage().contains("model.norm.weight holds -Inf at [0]"), e.getMessage());
    }

    @Test
    void theWriterRefusesNonFiniteTensorsAndWritesNothing(@TempDir Path tmp) throws Exception {
        Tensor t = Tensor.zeros(3, 4);
        t.set(Float.POSITIVE_INFINITY, 2, 1);
        JtuneException e = assertThrows(JtuneException.class,
                () -> SafetensorsWriter.defaults().writeFile(tmp.resolve("a.safetensors"), Map.of("w", t)));
        assertTrue(e.getMessage().contains("refusing to write") && e.getMessage().contains("w holds +Inf at [2, 1]"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("a.safetensors")));
        assertThrows(JtuneException.class, () -> SafetensorsWriter.defaults().writeModel(tmp.resolve("m"), Map.of("w", t)));
        assertFalse(Files.exists(tmp.resolve("m/model.safetensors")));
    }

    @Test
    void anExportReplacesTheWholeFolderAndNeverItsSource(@TempDir Path tmp) throws Exception {
        Path src = TinyModelFolders.write(tmp.resolve("base"), 3);
        Path out = tmp.resolve("out");
        try (CausalLM m = Architectures.load(src)) {
            ModelExport.save(m, src, out, 4_000); // sharded
            assertTrue(Files.exists(out.resolve(ShardIndex.FILE_NAME)));
            ModelExport.save(m, src, out, 1L << 30); // one file now: no shard or index of the earlier save may stay
            try (var s = Files.list(out)) {
                assertEquals(List.of("config.json", "model.safetensors"), s.map(p -> p.getFileName().toString()).sorted().toList());
            }
            byte[] before = Files.readAllBytes(src.resolve("model.safetensors"));
            JtuneException e = assertThrows(JtuneException.class, () -> ModelExport.save(m, src, src, 1L << 30));
            assertTrue(e.getMessage().contains("same folder"), e.getMessage());
            assertArrayEquals(before, Files.readAllBytes(src.resolve("model.safetensors")));
            Files.createDirectories(tmp.resolve("docs"));
            Files.writeString(tmp.resolve("docs/notes.txt"), "mine");
            e = assertThrows(JtuneException.class, () -> ModelExport.save(m, src, tmp.resolve("docs"), 1L << 30));
            assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());
            assertEquals("mine", Files.readString(tmp.resolve("docs/notes.txt")));
        }
    }

    @Test
    void aSmallWeightFileIsCopiedSoTruncatingItCannotHurt(@TempDir Path tmp) throws Exception {
        Path dir = TinyModelFolders.write(tmp.resolve("m"), 5);
        Path file = dir.resolve("model.safetensors");
        try (SafetensorsReader r = SafetensorsReader.open(dir)) {
            float before = r.get("model.norm.weight").get(5);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(100);
            }
            for (String n : r.names()) assertNotNull(r.getAll().get(n)); // every byte is still readable
            assertEquals(before, r.get("model.norm.weight").get(5));
            r.checkIntact(); // nothing mapped: nothing to report
        }
    }

    @Test
    void aMappedWeightFileTruncatedInPlaceIsReportedBeforeTheNextStep(@TempDir Path tmp) throws Exception {
        Path dir = TinyModelFolders.write(tmp.resolve("m"), 5);
        Path file = dir.resolve("model.safetensors");
        String before = System.getProperty("jtune.mapMinBytes");
        System.setProperty("jtune.mapMinBytes", "0");
        try (CausalLM model = Architectures.load(dir)) {
            var ok = Generator.generate(model, List.of(new int[] {1, 5, 9}), SamplingConfig.greedy(3), null, null);
            assertEquals(3, ok.getFirst().outputIds().length);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(64);
            }
            JtuneException direct = assertThrows(JtuneException.class, MappedWeights::checkIntact);
            assertTrue(direct.getMessage().contains(file.toString()) && direct.getMessage().contains("truncated"), direct.getMessage());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Generator.generate(model, List.of(new int[] {1, 5, 9}), SamplingConfig.greedy(3), null, null));
            assertTrue(e.getMessage().contains("was truncated to 64 bytes while jtune had it mapped"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty("jtune.mapMinBytes");
            else System.setProperty("jtune.mapMinBytes", before);
        }
        MappedWeights.checkIntact(); // closed models are no longer watched
    }

    @Test
    void aHugeMaxNewTokensStopsAtTheContextWithoutAllocatingIt() throws Exception {
        try (CausalLM model = TinyModels.random(3)) {
            var r = Generator.generate(model, List.of(new int[] {1, 4, 7}), SamplingConfig.greedy(2_000_000_000), null, null).getFirst();
            assertEquals(Sequence.Finish.LENGTH, r.finish());
            assertTrue(r.outputIds().length <= model.config().maxPositionEmbeddings(), "stops at the context: " + r.outputIds().length);
        }
    }
}
