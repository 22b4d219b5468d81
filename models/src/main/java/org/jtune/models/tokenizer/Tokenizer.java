package org.jtune.models.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.jtune.JtuneException;

/**
 * A text tokenizer loaded from a Hugging Face model folder: tokenizer.json (BPE with byte fallback and
 * SentencePiece-style "▁", or byte-level BPE with a regex pre-tokenizer), else a tiktoken tokenizer.model
 * (Llama 3). Encoding reproduces Hugging Face tokenizers: added tokens are cut out first and never split,
 * the rest is normalized, pre-tokenized and run through BPE, and the post-processor adds BOS etc. when
 * asked to. Decoding runs the file's decoder chain. Immutable and thread-safe.
 */
public final class Tokenizer {
    private final Path file;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final BpeModel model;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final AddedTokenMatcher rawTokens, rawNonSpecial, normalizedTokens, normalizedNonSpecial;
    private final Map<Integer, AddedToken> addedById = new HashMap<>();
    private final Map<String, AddedToken> addedByContent = new HashMap<>();
    private final int vocabSize;
    private final int bosId;
    private final int[] eosIds;

    Tokenizer(TokenizerParts parts, TokenizerConfig config) {
        this.file = parts.file();
        this.normalizer = parts.normalizer();
        this.preTokenizer = parts.preTokenizer();
        this.model = parts.model();
        this.postProcessor = parts.postProcessor();
        this.decoder = parts.decoder();
        int size = model.size();
        List<AddedToken> raw = new ArrayList<>(), normalized = new ArrayList<>();
        for (AddedToken t : parts.addedTokens()) {
            addedById.put(t.id(), t);
            addedByContent.putIfAbsent(t.content(), t);
            size = Math.max(size, t.id() + 1);
            (t.normalized() ? normalized : raw).add(t);
        }
        this.vocabSize = size;
        rawTokens = new AddedTokenMatcher(raw, c -> c);
        rawNonSpecial = new AddedTokenMatcher(raw.stream().filter(t -> !t.special()).toList(), c -> c);
        java.util.function.UnaryOperator<String> norm = normalizer == null ? c -> c : normalizer::normalize;
        normalizedTokens = new AddedTokenMatcher(normalized, norm);
        normalizedNonSpecial = new AddedTokenMatcher(normalized.stream().filter(t -> !t.special()).toList(), norm);

        int bos = config == null ? -1 : idOf(config.specialTokens().get("bos_token")).orElse(-1);
        if (bos < 0 && config != null) bos = config.configBosId();
        if (bos < 0) bos = parts.defaultBosId();
        this.bosId = bos;
        Set<Integer> eos = new LinkedHashSet<>();
        if (config != null) {
            idOf(config.specialTokens().get("eos_token")).ifPresent(eos::add);
            eos.addAll(config.configEosIds());
        }
        if (eos.isEmpty()) eos.addAll(parts.defaultEosIds());
        this.eosIds = eos.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Loads the tokenizer of a model folder (tokenizer.json, else a tiktoken tokenizer.model), with bos/eos
     * from its tokenizer_config.json / generation_config.json / config.json. A path to a tokenizer.json or
     * tokenizer.model file works too.
     */
    public static Tokenizer load(Path modelDir) throws JtuneException {
        Path dir = Files.isRegularFile(modelDir) ? modelDir.toAbsolutePath().getParent() : modelDir;
        Path json = Files.isRegularFile(modelDir) ? modelDir : modelDir.resolve("tokenizer.json");
        Path tiktoken = Files.isRegularFile(modelDir) ? modelDir : modelDir.resolve("tokenizer.model");
        if (!Files.exists(modelDir)) throw new JtuneException(modelDir + ": no such model folder");
        TokenizerParts parts;
        if (Files.isRegularFile(json) && json.getFileName().toString().endsWith(".json")) {
            parts = TokenizerJsonReader.read(json);
        } else if (Files.isRegularFile(tiktoken)) {
            parts = TiktokenReader.read(tiktoken);
        } else {
            throw new JtuneException(modelDir + ": no tokenizer.json (Hugging Face tokenizers) or tiktoken tokenizer.model here");
        }
        return new Tokenizer(parts, TokenizerConfig.read(dir));
    }

    /** The ids of text; addSpecial applies the post-processor (BOS etc.). Special-token text in it is always matched. */
    public int[] encode(String text, boolean addSpecial) {
        return run(text, addSpecial, true, null).toArray();
    }

    /** The ids and the token strings (as Hugging Face's Encoding.tokens reports them). */
    public Encoding encodeWithTokens(String text, boolean addSpecial) {
        List<String> tokens = new ArrayList<>();
        int[] ids = run(text, addSpecial, true, tokens).toArray();
        return new Encoding(ids, tokens);
    }

    /**
     * The ids of text read as plain text: special tokens written in it are encoded as ordinary characters
     * (tiktoken's encode_ordinary; Hugging Face's split_special_tokens). For untrusted user text.
     */
    public int[] encodePlain(String text) {
        return run(text, false, false, null).toArray();
    }

    private IntArrayBuilder run(String text, boolean addSpecial, boolean matchSpecial, List<String> tokens) {
        IntArrayBuilder ids = new IntArrayBuilder(text.length() / 3 + 4);
        List<PreTokenizer.Word> words = new ArrayList<>();
        AddedTokenMatcher raw = matchSpecial ? rawTokens : rawNonSpecial;
        AddedTokenMatcher normalized = matchSpecial ? normalizedTokens : normalizedNonSpecial;
        for (AddedTokenMatcher.Span span : raw.split(text)) {
            String piece = text.substring(span.start(), span.end());
            if (span.token() != null) {
                ids.add(span.token().id());
                if (tokens != null) tokens.add(piece);
                continue;
            }
            String norm = normalizer == null ? piece : normalizer.normalize(piece);
            for (AddedTokenMatcher.Span inner : normalized.split(norm)) {
                String sub = norm.substring(inner.start(), inner.end());
                if (inner.token() != null) {
                    ids.add(inner.token().id());
                    if (tokens != null) tokens.add(sub);
                    continue;
                }
                PreTokenizer.Word word = new PreTokenizer.Word(sub, span.start() == 0 && inner.start() == 0);
                if (preTokenizer == null) {
                    model.tokenize(word.text(), ids, tokens);
                } else {
                    words.clear();
                    preTokenizer.split(word, words);
                    for (PreTokenizer.Word w : words) model.tokenize(w.text(), ids, tokens);
                }
            }
        }
        if (!addSpecial || postProcessor == null) return ids;
        IntArrayBuilder out = new IntArrayBuilder(ids.size() + 4);
        List<String> outTokens = tokens == null ? null : new ArrayList<>();
        postProcessor.apply(ids.toArray(), tokens, out, outTokens);
        if (tokens != null) {
            tokens.clear();
            tokens.addAll(outTokens);
        }
        return out;
    }

    /** The text of ids through the decoder; ids the tokenizer does not know are skipped, as Hugging Face does. */
    public String decode(int[] ids, boolean skipSpecial) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            AddedToken added = addedById.get(id);
            if (added != null && added.special() && skipSpecial) continue;
            String t = tokenString(id);
            if (t != null) tokens.add(t);
        }
        if (decoder == null) return String.join(" ", tokens);
        return String.join("", decoder.decode(tokens));
    }

    /** The vocabulary string of an id ("▁Hello", "Ġworld", "<0x0A>", "<s>"), or null when no token has it. */
    public String tokenString(int id) {
        AddedToken added = addedById.get(id);
        return added != null ? added.content() : model.token(id);
    }

    /**
     * The bytes token id adds to generated text after other tokens (a byte-fallback token its one byte, "▁" a space,
     * a byte-level token the bytes its characters stand for), or null for a special token or an unknown id: what
     * a constraint on generated text (structured output) checks each token against.
     */
    public byte[] tokenBytes(int id) {
        AddedToken added = addedById.get(id);
        if (added != null) return added.special() ? null : added.content().getBytes(StandardCharsets.UTF_8);
        String t = model.token(id);
        if (t == null) return null;
        return decoder == null ? t.getBytes(StandardCharsets.UTF_8) : Decoder.bytesWithin(decoder, t);
    }

    /** The id of a token string (added tokens first, then the model's vocabulary). */
    public OptionalInt idOf(String token) {
        if (token == null) return OptionalInt.empty();
        AddedToken added = addedByContent.get(token);
        if (added != null) return OptionalInt.of(added.id());
        Integer id = model.id(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Whether id is a special added token (skipped by decode with skipSpecial). */
    public boolean isSpecial(int id) {
        AddedToken added = addedById.get(id);
        return added != null && added.special();
    }

    /** One more than the largest id of the model vocabulary and the added tokens. */
    public int vocabSize() {
        return vocabSize;
    }

    /** The beginning-of-sequence id, or -1 when the model has none. */
    public int bosId() {
        return bosId;
    }

    /** The ids that end generation (eos_token, then generation_config.json / config.json eos ids). */
    public int[] eosIds() {
        return eosIds.clone();
    }

    /** The tokenizer file this was read from. */
    public Path file() {
        return file;
    }
}
