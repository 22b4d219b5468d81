package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `jtune quantize`, `--quantize`, `jtune export gguf` and `--model FILE.gguf` end to end on stories260K: the quantized
 * folder generates what quantize-on-load generates; the F32 GGUF export generates what the Hugging Face folder
 * generates; NF4 runs in generate and chat, and the folder `jtune quantize --type nf4` writes (what serve --quantize nf4
 * serves) generates what --quantize nf4 does; the Modelfile is written beside the file (a second export into the
 * folder writes FILE.Modelfile and keeps the first); bad types, garbage GGUF files and a GGUF given where a folder
 * is needed fail with one line naming the problem.
 */
class QuantizeExportCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static JsonNode outputIds(CliRun r) throws Exception {
        assertEquals(0, r.exit(), r.toString());
        return JSON.readTree(r.out()).get("output_ids");
    }

    @Test
    void quantizedFolderAndGgufFilesRunLikeTheirSources() throws Exception {
        String model = SharedData.require("models/stories260K").toString();
        String[] gen = {"generate", "--prompt", "Once upon a time", "--max-new-tokens", "16", "--json", "--model"};
        JsonNode hf = outputIds(CliRun.of(concat(gen, model)));

        JsonNode onLoad = outputIds(CliRun.of(concat(gen, model, "--quantize", "q8_0")));
        Path q = tmp.resolve("q8");
        CliRun quantize = CliRun.of("quantize", "--model", model, "--type", "q8_0", "--out", q.toString());
        assertEquals(0, quantize.exit(), quantize.toString());
        assertEquals(onLoad, outputIds(CliRun.of(concat(gen, q.toString()))), "the quantized folder generates what --quantize does");
        assertEquals(16, outputIds(CliRun.of(concat(gen, model, "--quantize", "q4_k"))).size(), "q4_k falls back per matrix");

        Path f32 = tmp.resolve("out/stories.gguf");
        Files.createDirectories(f32.getParent());
        CliRun export = CliRun.of("export", "gguf", "--model", model, "--type", "f32", "--out", f32.toString());
        assertEquals(0, export.exit(), export.toString());
        assertTrue(Files.readString(f32.resolveSibling("Modelfile")).contains("FROM ./stories.gguf"));
        assertEquals(hf, outputIds(CliRun.of(concat(gen, f32.toString()))), "F32 GGUF generates what the folder generates");

        Path q4 = tmp.resolve("out/stories-q4.gguf");
        CliRun second = CliRun.of("export", "gguf", "--model", model, "--type", "q4_k_m", "--out", q4.toString());
        assertEquals(0, second.exit(), second.toString());
        // a second export into the folder keeps the first one's Modelfile and names its own after the file, saying so
        assertTrue(Files.readString(f32.resolveSibling("Modelfile")).contains("FROM ./stories.gguf\n"));
        assertTrue(Files.readString(q4.resolveSibling("stories-q4.Modelfile")).contains("FROM ./stories-q4.gguf\n"));
        assertTrue(second.err().contains("stories-q4.Modelfile") && second.err().contains("left as it is"), second.err());
        assertEquals(16, outputIds(CliRun.of(concat(gen, q4.toString()))).size());
    }

    @Test
    void nf4RunsInGenerateChatAndTheQuantizedFolderServeLoads() throws Exception {
        String model = SharedData.require("models/stories260K").toString();
        String[] gen = {"generate", "--prompt", "Once upon a time", "--max-new-tokens", "12", "--json", "--model"};
        JsonNode onLoad = outputIds(CliRun.of(concat(gen, model, "--quantize", "nf4")));
        assertEquals(12, onLoad.size());
        // serve --quantize nf4 writes this folder (jtune quantize) and serves it: it must generate what --quantize does
        Path q = tmp.resolve("nf4");
        CliRun quantize = CliRun.of("quantize", "--model", model, "--type", "nf4", "--out", q.toString());
        assertEquals(0, quantize.exit(), quantize.toString());
        assertEquals(onLoad, outputIds(CliRun.of(concat(gen, q.toString()))), "the NF4 folder generates what --quantize nf4 does");
        CliRun chat = CliRun.withInput("Once upon a time\n", "chat", "--model", model, "--quantize", "nf4", "--chat-template", "chatml",
                "--max-new-tokens", "8");
        assertEquals(0, chat.exit(), chat.toString());
        assertTrue(!chat.out().isBlank(), "chat answered: " + chat);
    }

    @Test
    void evalRunsOnAGgufFileAndWithQuantizeOnLoad() throws Exception {
        String model = SharedData.require("models/stories260K").toString();
        Path data = tmp.resolve("test.jsonl");
        Files.writeString(data, "{\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"},"
                + "{\"role\":\"assistant\",\"content\":\"there was\"}]}\n");
        String[] eval = {"eval", "--data", data.toString(), "--chat-template", "chatml", "--max-new-tokens", "4", "--model"};
        CliRun quantized = CliRun.of(concat(eval, model, "--quantize", "q4_0"));
        assertEquals(0, quantized.exit(), quantized.toString());
        Path gguf = tmp.resolve("e.gguf");
        assertEquals(0, CliRun.of("export", "gguf", "--model", model, "--type", "q8_0", "--out", gguf.toString()).exit());
        CliRun onGguf = CliRun.of(concat(eval, gguf.toString()));
        assertEquals(0, onGguf.exit(), onGguf.toString());
    }

    @Test
    void badInputFailsWithOneLine() throws Exception {
        String model = SharedData.require("models/stories260K").toString();
        CliRun badType = CliRun.of("generate", "--model", model, "--prompt", "x", "--quantize", "q3_k");
        assertTrue(badType.failedWithOneLine("generate", "q3_k"), badType.toString());
        CliRun badExport = CliRun.of("export", "gguf", "--model", model, "--type", "q5_1", "--out", tmp.resolve("x.gguf").toString());
        assertTrue(badExport.failedWithOneLine("export gguf", "q5_1"), badExport.toString());
        Path garbage = tmp.resolve("garbage.gguf");
        Files.write(garbage, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, 127, 0, 0, 0, 0, 0, 0, 0, 0});
        CliRun hostile = CliRun.of("generate", "--model", garbage.toString(), "--prompt", "x");
        assertTrue(hostile.failedWithOneLine("generate", "garbage.gguf"), hostile.toString());
        Path notGguf = tmp.resolve("text.gguf");
        Files.writeString(notGguf, "hello, not a gguf file at all");
        CliRun wrongMagic = CliRun.of("serve", "--model", notGguf.toString());
        assertTrue(wrongMagic.failedWithOneLine("serve", "text.gguf"), wrongMagic.toString());
        CliRun quantizeBad = CliRun.of("quantize", "--model", model, "--type", "nf3", "--out", tmp.resolve("o").toString());
        assertTrue(quantizeBad.failedWithOneLine("quantize", "nf3"), quantizeBad.toString());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
