package org.jtune.models.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jtune.JtuneException;

/**
 * Reads a tiktoken BPE file (tokenizer.model of Meta's Llama 3: one "base64-bytes rank" per line) as the
 * equivalent byte-level BPE: the token of rank r has id r; adjacent tokens a, b merge when their bytes
 * joined form a token, with that token's rank as priority (tiktoken's rule). Llama 3's split regex and
 * its 256 special tokens follow the ranks (&lt;|begin_of_text|&gt; = number of ranks, 128000 for Llama 3);
 * encoding with special tokens puts &lt;|begin_of_text|&gt; in front, as Hugging Face's Llama 3 does.
 */
final class TiktokenReader {
    private TiktokenReader() {}

    /** Meta's Llama 3 special tokens in id order; the rest up to 256 are reserved_special_token_2, 3, ... */
    static final List<String> LLAMA3_NAMED_SPECIALS = List.of(
            "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
            "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>", "<|end_header_id|>",
            "<|eom_id|>", "<|eot_id|>", "<|python_tag|>", "<|image|>");
    static final int LLAMA3_SPECIAL_COUNT = 256;

    /** A SentencePiece tokenizer.model is binary protobuf; say so instead of failing on some line of it. */
    private static void rejectBinary(Path file) throws JtuneException {
        byte[] head;
        try (var in = Files.newInputStream(file)) {
            head = in.readNBytes(4096);
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        for (byte b : head) {
            if (b == 0 || (b > 0 && b < 0x20 && b != '\n' && b != '\r' && b != '\t')) {
                throw new JtuneException(file + ":1: binary data, not a tiktoken file (lines of \"base64-token rank\"); "
                        + "a SentencePiece tokenizer.model is read through the tokenizer.json beside it");
            }
        }
    }

    static TokenizerParts read(Path file) throws JtuneException {
        rejectBinary(file);
        Map<String, Integer> tokenToId = new HashMap<>(1 << 18);
        List<String> byRank = new ArrayList<>();
        int maxRank = -1;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                int space = line.indexOf(' ');
                byte[] bytes;
                int rank;
                try {
                    if (space <= 0 || line.indexOf(' ', space + 1) >= 0) throw new IllegalArgumentException("not two fields");
                    bytes = Base64.getDecoder().decode(line.substring(0, space));
                    rank = Integer.parseInt(line.substring(space + 1).trim());
                } catch (IllegalArgumentException e) {
                    throw new JtuneException(file + ":" + lineNo + ": not a tiktoken line \"base64-token rank\""
                            + (byRank.isEmpty() ? " (a SentencePiece tokenizer.model is only read through its tokenizer.json)" : ""));
                }
                if (bytes.length == 0) throw new JtuneException(file + ":" + lineNo + ": empty token");
                if (rank < 0 || rank >= (1 << 22)) throw new JtuneException(file + ":" + lineNo + ": rank " + rank + " is out of range");
                String token = ByteLevelAlphabet.encode(bytes);
                while (byRank.size() <= rank) byRank.add(null);
                if (byRank.get(rank) != null) throw new JtuneException(file + ":" + lineNo + ": rank " + rank + " appears twice");
                if (tokenToId.putIfAbsent(token, rank) != null) throw new JtuneException(file + ":" + lineNo + ": token appears twice");
                byRank.set(rank, token);
                maxRank = Math.max(maxRank, rank);
            }
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (maxRank < 255) throw new JtuneException(file + ": only " + (maxRank + 1) + " ranks; a tiktoken BPE file has at least the 256 single bytes");
        for (int b = 0; b < 256; b++) {
            if (!tokenToId.containsKey(String.valueOf(ByteLevelAlphabet.charOf(b)))) {
                throw new JtuneException(file + ": byte " + b + " has no rank; a tiktoken BPE file ranks every single byte");
            }
        }
        String[] idToToken = byRank.toArray(new String[0]);
        MergeTable merges = new MergeTable(idToToken.length * 4);
        for (int id = 0; id < idToToken.length; id++) {
            String t = idToToken[id];
            if (t == null || t.length() < 2) continue;
            for (int k = 1; k < t.length(); k++) {
                Integer a = tokenToId.get(t.substring(0, k));
                if (a == null) continue;
                Integer b = tokenToId.get(t.substring(k));
                if (b != null) merges.put(a, b, id, id);
            }
        }
        BpeModel model = new BpeModel(idToToken, tokenToId, merges, null, false, false, true, "", "");

        int first = maxRank + 1;
        List<AddedToken> specials = new ArrayList<>();
        for (int i = 0; i < LLAMA3_SPECIAL_COUNT; i++) {
            String name = i < LLAMA3_NAMED_SPECIALS.size() ? LLAMA3_NAMED_SPECIALS.get(i)
                    : "<|reserved_special_token_" + (i - LLAMA3_NAMED_SPECIALS.size() + 2) + "|>";
            specials.add(AddedToken.special(first + i, name));
        }
        Pattern split = TokenizerRegex.compileTrusted(TokenizerRegex.LLAMA3);
        PreTokenizer pre = new PreTokenizer.Sequence(List.of(
                new PreTokenizer.Split(split, SplitBehavior.ISOLATED, false),
                new PreTokenizer.ByteLevel(false, false)));
        int bos = first;
        PostProcessor post = new PostProcessor.Template(List.of(
                new PostProcessor.Piece(new int[] {bos}, List.of(specials.getFirst().content())), PostProcessor.Piece.SEQUENCE));
        // end_of_text, eom_id and eot_id all end a Llama 3 turn.
        List<Integer> eos = List.of(first + 1, first + 8, first + 9);
        return new TokenizerParts(file, null, pre, model, specials, post, new Decoder.ByteLevel(), bos, eos);
    }
}
