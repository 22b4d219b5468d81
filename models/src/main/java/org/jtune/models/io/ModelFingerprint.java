package org.jtune.models.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.io.IoErrors;

/**
 * The identity of a base model folder: SHA-256 over the SHA-256 of config.json and of every weight
 * file (model.safetensors, or the shard index and each shard, or the GGUF file a described folder links), by name. An adapter records it when it
 * is saved and compares it when it is loaded, and a checkpoint records it so that --resume notices a
 * changed base; copying or moving the folder keeps it, any change of a weight or of the config does not.
 * A quantized copy (`jtune quantize`, `serve --quantize`) carries its source's fingerprint in
 * {@value #QUANTIZED_FROM}: adapters trained on the source apply to it, as they do with --quantize on load.
 *
 * <p>Hashing a 7B model reads 14 GB (about 10 s), so file hashes are remembered by (real path, size,
 * modification time, inode): in this JVM, and for files of 64 MiB and more also in
 * {@code ~/.cache/jtune/sha256/} (or $XDG_CACHE_HOME/jtune; -Djtune.hashCache=false turns it off).
 */
public final class ModelFingerprint {
    private static final long PERSIST_FROM_BYTES = 64L << 20;
    private static final Map<String, String> MEMO = new ConcurrentHashMap<>();

    /** The file of a quantized folder that names the fingerprint of the folder it was quantized from. */
    public static final String QUANTIZED_FROM = "jtune_quantized_from.json";

    private ModelFingerprint() {}

    /** The fingerprint of a model folder (config.json and safetensors weights). */
    public static String of(Path folder) throws JtuneException {
        Path from = folder.resolve(QUANTIZED_FROM);
        if (Files.isRegularFile(from)) {
            try {
                String h = new com.fasterxml.jackson.databind.ObjectMapper().readTree(from.toFile()).path("base_model_fingerprint").asText("");
                if (!h.matches("[0-9a-f]{64}")) throw new JtuneException(from + ": base_model_fingerprint is not a SHA-256 in hex: '" + h + "'");
                return h;
            } catch (IOException e) {
                throw new JtuneException(from + ": not valid JSON: " + IoErrors.reason(e), e);
            }
        }
        List<String> files = new ArrayList<>();
        files.add("config.json");
        Path index = folder.resolve(ShardIndex.FILE_NAME);
        if (Files.isRegularFile(index)) {
            files.add(ShardIndex.FILE_NAME);
            files.addAll(new TreeSet<>(ShardIndex.read(index).weightMap().values()));
        } else if (!Files.exists(folder.resolve("model.safetensors")) && Files.exists(folder.resolve(org.jtune.models.gguf.GgufModels.LINK))) {
            files.add(org.jtune.models.gguf.GgufModels.LINK); // a GGUF file described as a folder: the file is the weights
        } else {
            files.add("model.safetensors");
        }
        MessageDigest sha = sha256();
        for (String name : files) {
            Path p = folder.resolve(name);
            if (!Files.isRegularFile(p)) throw new JtuneException(folder + ": no " + name + " to fingerprint the model by");
            sha.update((name + " " + fileHash(p) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The SHA-256 of one file, remembered by its path, size, modification time and inode. */
    static String fileHash(Path file) throws JtuneException {
        try {
            Path real = file.toRealPath();
            BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
            String key = real + "|" + a.size() + "|" + a.lastModifiedTime().toMillis() + "|" + a.fileKey();
            String memo = MEMO.get(key);
            if (memo != null) return memo;
            Path cached = a.size() >= PERSIST_FROM_BYTES ? cacheFile(key) : null;
            if (cached != null && Files.isRegularFile(cached)) {
                String h = Files.readString(cached).strip();
                if (h.matches("[0-9a-f]{64}")) {
                    MEMO.put(key, h);
                    return h;
                }
            }
            String h = AtomicFile.sha256(real);
            MEMO.put(key, h);
            if (cached != null) {
                try {
                    AtomicFile.writeString(cached, h + "\n");
                } catch (JtuneException e) {
                    // a cache that cannot be written only costs time
                }
            }
            return h;
        } catch (IOException e) {
            throw new JtuneException(IoErrors.cannot("read", file, e), e);
        }
    }

    private static Path cacheFile(String key) {
        if ("false".equals(System.getProperty("jtune.hashCache"))) return null;
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path root = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        String name = HexFormat.of().formatHex(sha256().digest(key.getBytes(StandardCharsets.UTF_8)));
        return root.resolve("jtune").resolve("sha256").resolve(name);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
