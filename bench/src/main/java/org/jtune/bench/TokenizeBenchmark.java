package org.jtune.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jtune.models.tokenizer.Tokenizer;

/**
 * `jtune bench tokenize`: single-thread encoding speed, in MB of UTF-8 English text per second, of the
 * TinyLlama (SentencePiece-style BPE with byte fallback) and GPT-2 (byte-level BPE with regex split)
 * tokenizers from ../shared/hf, on 4 MB of generated prose encoded paragraph by paragraph after a warm-up.
 * A tokenizer whose folder is absent is skipped with a message. Prints one JSON line per tokenizer.
 */
final class TokenizeBenchmark {
    private TokenizeBenchmark() {}

    private static final int TEXT_CHARS = 4 << 20;
    private static final List<String> TOKENIZERS = List.of("tinyllama-1.1b-chat-v1.0", "gpt2");

    static int run(boolean json) throws Exception {
        Path hf = sharedRoot().resolve("hf");
        String text = EnglishText.generate(TEXT_CHARS, 20261128L);
        String[] paragraphs = text.split("\n");
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        int measured = 0;
        for (String name : TOKENIZERS) {
            Path dir = hf.resolve(name);
            if (!Files.isDirectory(dir)) {
                System.err.println("bench tokenize: skipping " + name + ": " + dir + " is absent (set JTUNE_SHARED to the shared folder)");
                continue;
            }
            Tokenizer tokenizer = Tokenizer.load(dir);
            // Warm-up: the JIT and the word cache see the vocabulary of the text once.
            long tokens = encodeAll(tokenizer, paragraphs, paragraphs.length / 4);
            long start = System.nanoTime();
            tokens = encodeAll(tokenizer, paragraphs, paragraphs.length);
            double seconds = (System.nanoTime() - start) / 1e9;
            double mbPerSecond = bytes / 1e6 / seconds;
            measured++;
            if (json) {
                System.out.printf(java.util.Locale.ROOT,
                        "{\"bench\":\"tokenize\",\"tokenizer\":\"%s\",\"mb_per_s\":%.2f,\"threads\":1,\"mb\":%.2f,\"tokens\":%d,\"seconds\":%.3f}%n",
                        name, mbPerSecond, bytes / 1e6, tokens, seconds);
            } else {
                System.err.printf(java.util.Locale.ROOT, "tokenize %-26s %7.2f MB/s  (%.2f MB, %d tokens, %.3f s, 1 thread)%n",
                        name, mbPerSecond, bytes / 1e6, tokens, seconds);
            }
        }
        return measured > 0 ? 0 : 1;
    }

    private static long encodeAll(Tokenizer tokenizer, String[] paragraphs, int count) {
        long tokens = 0;
        for (int i = 0; i < count; i++) tokens += tokenizer.encode(paragraphs[i], false).length;
        return tokens;
    }

    /** The shared data folder: -Djtune.shared, else $JTUNE_SHARED, else ../shared from the working directory. */
    static Path sharedRoot() {
        String p = System.getProperty("jtune.shared");
        if (p == null || p.isBlank()) p = System.getenv("JTUNE_SHARED");
        if (p == null || p.isBlank()) p = "../shared";
        return Path.of(p).toAbsolutePath().normalize();
    }
}
