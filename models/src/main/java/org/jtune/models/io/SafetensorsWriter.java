package org.jtune.models.io;

import org.jtune.io.AtomicFile;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jtune.JtuneException;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * Writes tensors in the safetensors format, one file or a sharded Hugging Face checkpoint.
 *
 * <p>Options (a record with withers): {@code metadata} goes to {@code __metadata__}, with
 * {"format": "pt"} added unless given, because transformers refuses weights whose format is missing;
 * {@code floatDType}, when set, converts every floating tensor to that dtype (integer tensors are
 * written as they are); {@code maxShardBytes} bounds the tensor bytes per shard in
 * {@link #writeModel}. Tensors may have any strides: they are written contiguous, little-endian, in
 * name order, streamed through a small buffer. The header is padded with spaces to a multiple of 8
 * bytes so every tensor starts 8-aligned relative to the data area's start.
 *
 * <p>Every file is written to a temporary file in its target folder and renamed over the target
 * atomically, so a crash never leaves a half-written checkpoint under the final name.
 */
public record SafetensorsWriter(Map<String, String> metadata, DType floatDType, long maxShardBytes) {
    /** Default shard bound, as transformers' save_pretrained uses (5 GB). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;
    private static final Pattern SHARD_FILE = Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");

    public SafetensorsWriter {
        metadata = Map.copyOf(metadata);
        if (floatDType != null && !floatDType.isFloating()) {
            throw new IllegalArgumentException("floatDType must be a floating dtype, got " + floatDType);
        }
        if (maxShardBytes <= 0) throw new IllegalArgumentException("maxShardBytes must be positive, got " + maxShardBytes);
    }

    /** No extra metadata, dtypes kept, 5 GB shards. */
    public static SafetensorsWriter defaults() {
        return new SafetensorsWriter(Map.of(), null, DEFAULT_MAX_SHARD_BYTES);
    }

    public SafetensorsWriter withMetadata(Map<String, String> metadata) {
        return new SafetensorsWriter(metadata, floatDType, maxShardBytes);
    }

    public SafetensorsWriter withFloatDType(DType floatDType) {
        return new SafetensorsWriter(metadata, floatDType, maxShardBytes);
    }

    public SafetensorsWriter withMaxShardBytes(long maxShardBytes) {
        return new SafetensorsWriter(metadata, floatDType, maxShardBytes);
    }

    /** Writes all {@code tensors} into the single file {@code file}. */
    public void writeFile(Path file, Map<String, Tensor> tensors) throws JtuneException {
        Map<String, Tensor> sorted = checkedSorted(tensors, file);
        byte[] header = header(sorted, file);
        writeAtomically(file, ch -> {
            try (TensorByteStream stream = new TensorByteStream(ch)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                while (len.hasRemaining()) ch.write(len);
                ByteBuffer h = ByteBuffer.wrap(header);
                while (h.hasRemaining()) ch.write(h);
                for (Map.Entry<String, Tensor> e : sorted.entrySet()) stream.write(e.getValue(), targetDType(e.getValue()));
                stream.flush();
            }
        });
    }

    /**
     * Writes a Hugging Face weights folder: {@code model.safetensors} when everything fits in one shard,
     * else {@code model-0000i-of-0000N.safetensors} shards (greedy in name order, each at most
     * {@code maxShardBytes} of tensor data unless a single tensor is larger) and
     * {@code model.safetensors.index.json}. Weight files of an earlier save in the folder that the new
     * layout does not use (stale shards, index or single file) are deleted after the new ones are in
     * place. Returns the files written, the index last when there is one.
     */
    public List<Path> writeModel(Path folder, Map<String, Tensor> tensors) throws JtuneException {
        Map<String, Tensor> sorted = checkedSorted(tensors, folder);
        List<Map<String, Tensor>> shards = new ArrayList<>();
        Map<String, Tensor> current = new LinkedHashMap<>();
        long currentBytes = 0, totalBytes = 0;
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            long bytes = byteLength(e.getKey(), e.getValue(), folder);
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new LinkedHashMap<>();
                currentBytes = 0;
            }
            current.put(e.getKey(), e.getValue());
            currentBytes += bytes;
            totalBytes += bytes;
        }
        if (!current.isEmpty() || shards.isEmpty()) shards.add(current);

        List<Path> written = new ArrayList<>();
        if (shards.size() == 1) {
            Path file = folder.resolve("model.safetensors");
            writeFile(file, shards.getFirst());
            written.add(file);
        } else {
            Map<String, String> weightMap = new TreeMap<>();
            for (int i = 0; i < shards.size(); i++) {
                String name = ShardIndex.shardName(i + 1, shards.size());
                Path file = folder.resolve(name);
                writeFile(file, shards.get(i));
                for (String tensor : shards.get(i).keySet()) weightMap.put(tensor, name);
                written.add(file);
            }
            Path index = folder.resolve(ShardIndex.FILE_NAME);
            AtomicFile.writeString(index, new ShardIndex(totalBytes, weightMap).toJson());
            written.add(index);
        }
        removeStale(folder, written);
        return written;
    }

    /** Writes a file's content through {@link AtomicFile}; an error names the file. */
    private static void writeAtomically(Path file, AtomicFile.ChannelBody content) throws JtuneException {
        try {
            AtomicFile.writeChannel(file, content);
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot write: " + e, e);
        }
    }

    private DType targetDType(Tensor t) {
        return floatDType != null && t.dtype().isFloating() ? floatDType : t.dtype();
    }

    private long byteLength(String name, Tensor t, Path where) throws JtuneException {
        try {
            return Math.multiplyExact(t.numel(), (long) targetDType(t).byteSize());
        } catch (ArithmeticException e) {
            throw new JtuneException(where + ": tensor '" + name + "' is too large to write", e);
        }
    }

    private static Map<String, Tensor> checkedSorted(Map<String, Tensor> tensors, Path where) throws JtuneException {
        Map<String, Tensor> sorted = new TreeMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.equals("__metadata__")) {
                throw new JtuneException(where + ": '" + name + "' cannot be a safetensors tensor name");
            }
            if (e.getValue() == null) throw new JtuneException(where + ": tensor '" + name + "' is null");
            sorted.put(name, e.getValue());
        }
        return sorted;
    }

    /** The header JSON, space-padded so that 8 + its length is a multiple of 8. */
    private byte[] header(Map<String, Tensor> sorted, Path file) throws JtuneException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = StrictJson.factory().createGenerator(bytes)) {
            g.writeStartObject();
            Map<String, String> meta = new TreeMap<>(metadata);
            meta.putIfAbsent("format", "pt");
            g.writeObjectFieldStart("__metadata__");
            for (Map.Entry<String, String> e : meta.entrySet()) g.writeStringField(e.getKey(), e.getValue());
            g.writeEndObject();
            long offset = 0;
            for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
                Tensor t = e.getValue();
                long length = byteLength(e.getKey(), t, file);
                g.writeObjectFieldStart(e.getKey());
                g.writeStringField("dtype", SafetensorsDType.of(targetDType(t)).name());
                g.writeArrayFieldStart("shape");
                for (int d : t.shape()) g.writeNumber(d);
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(offset + length);
                g.writeEndArray();
                g.writeEndObject();
                offset += length;
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot build safetensors header: " + e, e);
        }
        int pad = (8 - bytes.size() % 8) % 8;
        for (int i = 0; i < pad; i++) bytes.write(' ');
        if (bytes.size() > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new JtuneException(file + ": header of " + bytes.size() + " bytes exceeds the safetensors limit");
        }
        return bytes.toByteArray();
    }

    private static void removeStale(Path folder, List<Path> keep) throws JtuneException {
        Set<Path> kept = Set.copyOf(keep.stream().map(p -> p.getFileName()).toList());
        try (DirectoryStream<Path> files = Files.newDirectoryStream(folder)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                boolean weights = name.equals("model.safetensors") || name.equals(ShardIndex.FILE_NAME)
                        || SHARD_FILE.matcher(name).matches();
                if (weights && !kept.contains(p.getFileName())) Files.delete(p);
            }
        } catch (IOException e) {
            throw new JtuneException(folder + ": cannot remove weight files of an earlier save: " + e, e);
        }
    }
}
