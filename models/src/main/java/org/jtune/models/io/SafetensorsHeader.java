package org.jtune.models.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jtune.JtuneException;

/**
 * The parsed and validated JSON header of one safetensors file: the tensors (name, dtype, shape,
 * byte range in the data area) and the optional {@code __metadata__} string map.
 *
 * <p>Format (https://huggingface.co/docs/safetensors): 8 bytes little-endian header length N, N
 * bytes of UTF-8 JSON, then the data area. The header is one object mapping each tensor name to
 * {@code {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}}, offsets relative to the data
 * area. Validation here: the JSON is well formed, bounded ({@link StrictJson}) and shaped as above;
 * no duplicate keys; dtypes known; dims and offsets non-negative integers; begin ≤ end ≤ data size;
 * end − begin equals the shape's byte size (computed without overflow); no two tensors overlap.
 * Every failure is a {@link JtuneException} naming the file and, when there is one, the tensor.
 * The parser streams tokens into small records, so memory stays proportional to the header size.
 */
public record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    /** Largest rank accepted; real checkpoints use at most 5. */
    public static final int MAX_RANK = 64;

    public SafetensorsHeader {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /**
     * Parses {@code json} (the header bytes) for {@code file}, whose data area holds {@code dataSize}
     * bytes.
     */
    public static SafetensorsHeader parse(byte[] json, long dataSize, Path file) throws JtuneException {
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        String current = null;
        try (JsonParser p = StrictJson.factory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new JtuneException(file + ": safetensors header is not a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                current = p.currentName();
                if (current.equals("__metadata__")) {
                    parseMetadata(p, metadata, file);
                } else {
                    tensors.put(current, parseTensor(p, current, dataSize, file));
                }
                current = null;
            }
            if (t != JsonToken.END_OBJECT) throw new JtuneException(file + ": safetensors header is not a JSON object");
            if (p.nextToken() != null) {
                throw new JtuneException(file + ": safetensors header has content after its JSON object");
            }
        } catch (StreamConstraintsException e) {
            throw new JtuneException(file + ": safetensors header exceeds a parser limit" + where(current) + ": "
                    + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new JtuneException(file + ": malformed safetensors header JSON" + where(current) + " at byte "
                    + e.getLocation().getByteOffset() + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot parse safetensors header: " + e.getMessage(), e);
        }
        checkNoOverlap(tensors, file);
        return new SafetensorsHeader(tensors, metadata);
    }

    private static String where(String tensor) {
        return tensor == null ? "" : " (in entry '" + tensor + "')";
    }

    private static void parseMetadata(JsonParser p, Map<String, String> metadata, Path file)
            throws IOException, JtuneException {
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw new JtuneException(file + ": __metadata__ must be an object of strings");
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING) {
                throw new JtuneException(file + ": __metadata__ value for '" + key + "' must be a string, found "
                        + p.currentToken());
            }
            metadata.put(key, p.getText());
        }
    }

    private static TensorInfo parseTensor(JsonParser p, String name, long dataSize, Path file)
            throws IOException, JtuneException {
        String at = file + ": tensor '" + name + "': ";
        if (p.nextToken() != JsonToken.START_OBJECT) {
            throw new JtuneException(at + "entry must be an object with dtype, shape and data_offsets");
        }
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            switch (field) {
                case "dtype" -> {
                    if (v != JsonToken.VALUE_STRING) throw new JtuneException(at + "dtype must be a string");
                    dtypeName = p.getText();
                }
                case "shape" -> shape = readLongs(p, at + "shape", MAX_RANK);
                case "data_offsets" -> {
                    offsets = readLongs(p, at + "data_offsets", 2);
                    if (offsets.length != 2) throw new JtuneException(at + "data_offsets must be [begin, end]");
                }
                default -> p.skipChildren(); // unknown fields are ignored, as the reference implementation does
            }
        }
        if (dtypeName == null) throw new JtuneException(at + "missing dtype");
        if (shape == null) throw new JtuneException(at + "missing shape");
        if (offsets == null) throw new JtuneException(at + "missing data_offsets");
        SafetensorsDType dtype = SafetensorsDType.parse(dtypeName);
        if (dtype == null) throw new JtuneException(at + "unknown dtype '" + abbreviate(dtypeName) + "'");
        long begin = offsets[0], end = offsets[1];
        if (begin > end) throw new JtuneException(at + "data_offsets [" + begin + ", " + end + "] has begin > end");
        if (end > dataSize) {
            throw new JtuneException(at + "data_offsets [" + begin + ", " + end + "] run past the data area of "
                    + dataSize + " bytes (file truncated?)");
        }
        long expected = byteSize(shape, dtype, at);
        if (expected != end - begin) {
            throw new JtuneException(at + "shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs "
                    + expected + " bytes but data_offsets give " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, file, begin, end);
    }

    /** An array of non-negative integers that fit in a long, at most {@code max} of them. */
    private static long[] readLongs(JsonParser p, String what, int max) throws IOException, JtuneException {
        if (p.currentToken() != JsonToken.START_ARRAY) throw new JtuneException(what + " must be an array of integers");
        List<Long> values = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw new JtuneException(what + " must hold integers, found " + describe(p, t));
            }
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw new JtuneException(what + " holds " + p.getText() + ", which does not fit in 63 bits");
            }
            long v = p.getLongValue();
            if (v < 0) throw new JtuneException(what + " holds the negative value " + v);
            if (values.size() == max) throw new JtuneException(what + " has more than " + max + " entries");
            values.add(v);
        }
        long[] out = new long[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = values.get(i);
        return out;
    }

    /**
     * Bytes of a tensor of {@code shape}: the element count times the width, counted in bytes for
     * byte-sized types and in bits for sub-byte ones (which must fill whole bytes). An error when the
     * count overflows 63 bits.
     */
    static long byteSize(long[] shape, SafetensorsDType dtype, String at) throws JtuneException {
        for (long d : shape) {
            if (d == 0) return 0;
        }
        boolean wholeBytes = dtype.bits() % 8 == 0;
        long n = wholeBytes ? dtype.bits() / 8 : dtype.bits();
        for (long d : shape) {
            long hi = Math.multiplyHigh(n, d);
            n *= d;
            if (hi != 0 || n < 0) {
                throw new JtuneException(at + "shape " + java.util.Arrays.toString(shape) + " of " + dtype
                        + " overflows 64-bit byte arithmetic");
            }
        }
        if (wholeBytes) return n;
        if (n % 8 != 0) {
            throw new JtuneException(at + "shape " + java.util.Arrays.toString(shape) + " of " + dtype
                    + " does not fill a whole number of bytes");
        }
        return n / 8;
    }

    private static void checkNoOverlap(Map<String, TensorInfo> tensors, Path file) throws JtuneException {
        List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < byOffset.size(); i++) {
            TensorInfo a = byOffset.get(i - 1), b = byOffset.get(i);
            if (b.begin() < a.end()) {
                throw new JtuneException(file + ": tensor '" + b.name() + "' [" + b.begin() + ", " + b.end()
                        + ") overlaps tensor '" + a.name() + "' [" + a.begin() + ", " + a.end() + ")");
            }
        }
    }

    private static String describe(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case VALUE_NUMBER_FLOAT -> "the non-integer " + p.getText();
            case VALUE_STRING -> "the string \"" + abbreviate(p.getText()) + "\"";
            default -> t.asString() != null ? t.asString() : t.name();
        };
    }

    static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "... (" + s.length() + " chars)";
    }
}
