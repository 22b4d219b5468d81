package org.jtune.models.nf4;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jtune.JtuneException;
import org.jtune.models.io.StrictJson;
import org.jtune.models.weights.WeightSource;
import org.jtune.quant.nf4.Nf4Scales;
import org.jtune.quant.nf4.Nf4Tensor;
import org.jtune.quant.nf4.NormalFloat4;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * The tensors of a checkpoint saved 4-bit by bitsandbytes ({@code Params4bit} through transformers'
 * {@code save_pretrained}), read into {@link Nf4Tensor}s. For a quantized weight W the checkpoint holds:
 * <pre>
 *   W                                   U8  ((n+1)/2, 1)  packed codes, even flat index in the high nibble
 *   W.absmax                            F32 (blocks,) — or U8 when double-quantized
 *   W.quant_map                         F32 (16,)         the NF4 levels
 *   W.nested_absmax                     F32 (ceil(blocks/256),)   [double quantization only]
 *   W.nested_quant_map                  F32 (256,)        the dynamic map   [double quantization only]
 *   W.quant_state.bitsandbytes__nf4     U8  JSON: quant_type, blocksize, dtype, shape, nested_blocksize,
 *                                       nested_dtype, nested_offset  (QuantState.as_dict(packed=True))
 * </pre>
 * The codes stay a zero-copy view of the mapped file. Errors name the tensor and the key.
 */
public final class BnbNf4Checkpoint {
    public static final String STATE_SUFFIX = ".quant_state.bitsandbytes__nf4";
    static final String[] COMPANIONS = {".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map", STATE_SUFFIX};

    private BnbNf4Checkpoint() {}

    /** The names of the quantized weights in {@code source} (those with a packed quant state). */
    public static Set<String> quantizedNames(WeightSource source) throws JtuneException {
        Set<String> out = new TreeSet<>();
        for (String n : source.names()) {
            if (n.endsWith(".quant_state.bitsandbytes__fp4")) {
                throw new JtuneException(source.origin() + ": tensor " + n + ": the fp4 4-bit type is not supported; jtune reads nf4");
            }
            if (n.endsWith(STATE_SUFFIX)) out.add(n.substring(0, n.length() - STATE_SUFFIX.length()));
        }
        return out;
    }

    /** Whether {@code name} is one of the companion tensors of a quantized weight (not a weight itself). */
    public static boolean isCompanion(String name, Set<String> quantized) {
        for (String c : COMPANIONS) {
            if (name.endsWith(c) && quantized.contains(name.substring(0, name.length() - c.length()))) return true;
        }
        return false;
    }

    /** Reads the quantized weight {@code name} of {@code source}. */
    public static Nf4Tensor read(WeightSource source, String name) throws JtuneException {
        String where = source.origin() + ": tensor " + name;
        JsonNode state = stateOf(source, name);
        String type = state.path("quant_type").asText("");
        if (!type.equals("nf4")) throw new JtuneException(where + STATE_SUFFIX + ": quant_type is \"" + type + "\", expected nf4");
        int blockSize = state.path("blocksize").asInt(-1);
        if (blockSize <= 0 || blockSize % 2 != 0) throw new JtuneException(where + STATE_SUFFIX + ": blocksize " + state.get("blocksize") + " is not a positive even number");
        JsonNode shape = state.get("shape");
        if (shape == null || !shape.isArray() || shape.size() != 2 || !shape.get(0).canConvertToInt() || !shape.get(1).canConvertToInt()) {
            throw new JtuneException(where + STATE_SUFFIX + ": shape " + shape + " is not [out, in] (jtune quantizes 2-D linear weights only)");
        }
        int rows = shape.get(0).asInt(), cols = shape.get(1).asInt();
        long n = (long) rows * cols;
        long blocks = (n + blockSize - 1) / blockSize;
        Tensor codes = require(source, name, DType.U8, where);
        if (codes.numel() != (n + 1) / 2) {
            throw new JtuneException(where + ": " + codes.numel() + " packed bytes, the quant state's shape " + rows + "×" + cols + " needs " + (n + 1) / 2);
        }
        float[] map = floats(require(source, name + ".quant_map", DType.F32, where), 16, name + ".quant_map", source);
        if (!Arrays.equals(map, NormalFloat4.levels())) {
            throw new JtuneException(source.origin() + ": tensor " + name + ".quant_map is not the NF4 code book of bitsandbytes (e.g. " + map[1] + " at index 1)");
        }
        Nf4Scales scales;
        if (state.has("nested_blocksize") || source.get(name + ".nested_absmax") != null) {
            int nb = state.path("nested_blocksize").asInt(-1);
            if (nb <= 0) throw new JtuneException(where + STATE_SUFFIX + ": nested_blocksize " + state.get("nested_blocksize") + " is not a positive number");
            if (!state.path("nested_offset").isNumber()) throw new JtuneException(where + STATE_SUFFIX + ": nested_offset is missing or not a number");
            Tensor qa = require(source, name + ".absmax", DType.U8, where);
            if (qa.numel() != blocks) throw new JtuneException(source.origin() + ": tensor " + name + ".absmax has " + qa.numel() + " values, " + blocks + " blocks need as many");
            byte[] q = segment(qa).toArray(ValueLayout.JAVA_BYTE);
            float[] nested = floats(require(source, name + ".nested_absmax", DType.F32, where), (int) ((blocks + nb - 1) / nb), name + ".nested_absmax", source);
            float[] code = floats(require(source, name + ".nested_quant_map", DType.F32, where), 256, name + ".nested_quant_map", source);
            scales = Nf4Scales.doubleQuantized(q, nested, (float) state.get("nested_offset").asDouble(), code, nb);
        } else {
            scales = Nf4Scales.plain(floats(require(source, name + ".absmax", DType.F32, where), (int) blocks, name + ".absmax", source));
        }
        return new Nf4Tensor(rows, cols, blockSize, segment(codes), scales);
    }

    /** The quant state's JSON of weight {@code name}. */
    static JsonNode stateOf(WeightSource source, String name) throws JtuneException {
        Tensor t = source.get(name + STATE_SUFFIX);
        if (t == null) throw new JtuneException(source.origin() + ": checkpoint has no tensor " + name + STATE_SUFFIX);
        if (t.dtype() != DType.U8) throw new JtuneException(source.origin() + ": tensor " + name + STATE_SUFFIX + " has dtype " + t.dtype() + ", expected U8 (JSON bytes)");
        String json = new String(segment(t).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        try {
            JsonNode node = StrictJson.mapper().readTree(json);
            if (node == null || !node.isObject()) throw new JtuneException(source.origin() + ": tensor " + name + STATE_SUFFIX + " is not a JSON object");
            return node;
        } catch (IOException e) {
            throw new JtuneException(source.origin() + ": tensor " + name + STATE_SUFFIX + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** The packed quant state JSON bitsandbytes writes ({@code json.dumps} of the non-tensor items). */
    static String stateJson(Nf4Tensor t, String dtype) {
        StringBuilder s = new StringBuilder("{\"quant_type\": \"nf4\", \"blocksize\": ").append(t.blockSize())
                .append(", \"dtype\": \"").append(dtype).append("\", \"shape\": [").append(t.rows()).append(", ").append(t.cols()).append(']');
        if (t.scales().isDoubleQuantized()) {
            s.append(", \"nested_blocksize\": ").append(t.scales().nestedBlockSize()).append(", \"nested_dtype\": \"float32\", \"nested_offset\": ")
                    .append((double) t.scales().offset());
        }
        return s.append('}').toString();
    }

    /** The tensors bitsandbytes saves for {@code t} under weight name {@code name}. */
    public static Map<String, Tensor> tensors(String name, Nf4Tensor t, String dtype) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        byte[] codes = t.codes().toArray(ValueLayout.JAVA_BYTE);
        m.put(name, bytes(codes, codes.length, 1));
        Nf4Scales s = t.scales();
        if (s.isDoubleQuantized()) {
            byte[] q = s.quantizedAbsmax();
            m.put(name + ".absmax", bytes(q, q.length));
            m.put(name + ".nested_absmax", Tensor.of(s.nestedAbsmax(), s.nestedAbsmax().length));
            m.put(name + ".nested_quant_map", Tensor.of(s.nestedCode(), 256));
        } else {
            m.put(name + ".absmax", Tensor.of(s.plainAbsmax(), s.blocks()));
        }
        m.put(name + ".quant_map", Tensor.of(NormalFloat4.levels(), 16));
        byte[] json = stateJson(t, dtype).getBytes(StandardCharsets.UTF_8);
        m.put(name + STATE_SUFFIX, bytes(json, json.length));
        return m;
    }

    private static Tensor bytes(byte[] b, int... shape) {
        Tensor t = Tensor.zeros(DType.U8, shape);
        MemorySegment.copy(MemorySegment.ofArray(b), 0, segment(t), 0, b.length);
        return t;
    }

    private static Tensor require(WeightSource source, String name, DType dtype, String where) throws JtuneException {
        Tensor t = source.get(name);
        if (t == null) throw new JtuneException(where + ": the 4-bit checkpoint has no tensor " + name);
        if (t.dtype() != dtype) throw new JtuneException(source.origin() + ": tensor " + name + " has dtype " + t.dtype() + ", expected " + dtype);
        return t;
    }

    private static float[] floats(Tensor t, int expected, String name, WeightSource source) throws JtuneException {
        if (t.numel() != expected) throw new JtuneException(source.origin() + ": tensor " + name + " has " + t.numel() + " values, expected " + expected);
        return t.toFloatArray();
    }

    private static MemorySegment segment(Tensor t) {
        long bytes = t.numel() * t.dtype().byteSize();
        return t.storage().segment().asSlice(t.offset() * t.dtype().byteSize(), bytes);
    }
}
