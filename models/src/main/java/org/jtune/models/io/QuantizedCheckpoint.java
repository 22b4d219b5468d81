package org.jtune.models.io;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.models.CausalLM;
import org.jtune.models.weights.WeightSource;
import org.jtune.quant.BlockFormat;
import org.jtune.quant.GgmlType;
import org.jtune.quant.RowGroupFormats;
import org.jtune.tensor.BlockCodec;
import org.jtune.tensor.DType;
import org.jtune.tensor.Storage;
import org.jtune.tensor.Tensor;

/**
 * The quantized model folder `jtune quantize` writes and every command reads back: a Hugging Face folder whose
 * safetensors hold each block-quantized weight as a U8 tensor of shape (rows, row bytes) — the rows of its ggml
 * block format exactly as GGUF stores them — under its Hugging Face name, with one {@code __metadata__} entry
 * per such tensor, {@code "jtune.quant:<name>": "<type> <cols>"} (e.g. {@code "q4_0 2048"}); every other weight
 * is stored as usual. config.json gains {@code "quantization_config": {"quant_method": "jtune", "type": ...}}.
 * Any safetensors reader can open the files; only jtune knows the U8 rows are blocks. Reading checks each entry:
 * a known type, a tensor of that name, U8 (rows, bytes) with bytes the type's row size for cols; otherwise a
 * named error.
 */
public final class QuantizedCheckpoint {
    /** Prefix of the metadata keys that mark quantized tensors. */
    public static final String KEY = "jtune.quant:";

    private QuantizedCheckpoint() {}

    /** The model's weights as safetensors tensors (block-quantized ones as U8 rows) and the metadata marking them. */
    public static Map<String, Tensor> tensors(CausalLM model, Map<String, String> metadata) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Variable> e : model.weights().named().entrySet()) {
            Tensor t = RowGroupFormats.unpacked(e.getValue().value());   // files hold ggml's rows
            if (t.dtype() != DType.BLOCK) {
                out.put(e.getKey(), t);
                continue;
            }
            if (t.offset() != 0 || !t.isContiguous()) throw new IllegalArgumentException(e.getKey() + ": a view of a quantized matrix cannot be saved");
            BlockCodec c = t.blockCodec();
            int rows = t.size(0), cols = t.size(1);
            int rowBytes = Math.toIntExact(c.rowBytes(cols));
            int[] shape = {rows, rowBytes};
            out.put(e.getKey(), new Tensor(Storage.wrap(t.storage().segment()), DType.U8, shape, Tensor.contiguousStrides(shape), 0));
            metadata.put(KEY + e.getKey(), c.name() + " " + cols);
        }
        return out;
    }

    /** {@code source} with the tensors its metadata marks as quantized turned back into block-quantized tensors. */
    public static WeightSource decode(SafetensorsReader reader) throws JtuneException {
        WeightSource plain = WeightSource.of(reader);
        Map<String, String[]> marks = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : reader.metadata().entrySet()) {
            if (!e.getKey().startsWith(KEY)) continue;
            String name = e.getKey().substring(KEY.length());
            String[] v = e.getValue().trim().split("\\s+");
            if (v.length != 2 || !v[1].matches("\\d{1,9}")) {
                throw new JtuneException(reader.source() + ": metadata " + e.getKey() + " = \"" + e.getValue() + "\": expected \"<type> <cols>\"");
            }
            GgmlType type = GgmlType.byName(v[0]);
            if (type == null || type.format() == null || !type.isQuantized()) {
                throw new JtuneException(reader.source() + ": metadata " + e.getKey() + ": unknown quantization type " + v[0]);
            }
            if (!reader.contains(name)) throw new JtuneException(reader.source() + ": metadata " + e.getKey() + " names no tensor of the checkpoint");
            marks.put(name, v);
        }
        if (marks.isEmpty()) return plain;
        return new WeightSource() {
            public Tensor get(String name) throws JtuneException {
                Tensor t = plain.get(name);
                String[] m = marks.get(name);
                if (t == null || m == null) return t;
                BlockFormat f = GgmlType.byName(m[0]).format();
                int cols = Integer.parseInt(m[1]);
                if (t.dtype() != DType.U8 || t.rank() != 2 || cols % f.blockSize() != 0 || t.size(1) != f.rowBytes((long) cols)) {
                    throw new JtuneException(reader.source() + ": tensor " + name + " is " + t.dtype() + " " + java.util.Arrays.toString(t.shape())
                            + ", not U8 rows of " + (cols % f.blockSize() == 0 ? f.rowBytes((long) cols) : "?") + " bytes (" + m[0] + ", " + cols + " columns)");
                }
                MemorySegment bytes = t.storage().segment();
                return Tensor.blockQuantized(f, bytes, t.size(0), cols);
            }

            public Set<String> names() {
                return plain.names();
            }

            public String origin() {
                return plain.origin();
            }
        };
    }

    /** Writes {@code model} (projections quantized, or not) as a quantized folder; side files come from {@code sourceDir}. */
    public static void save(CausalLM model, Path sourceDir, Path outDir, String type) throws JtuneException {
        if ("nf4".equals(type)) { // QLoRA's NF4: bitsandbytes' own layout, which transformers and jtune read back
            org.jtune.models.nf4.Nf4Checkpoints.save(model, sourceDir, outDir, true);
            return;
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        Map<String, Tensor> tensors = tensors(model, metadata);
        ModelExport.saveTensors(model, tensors, metadata, sourceDir, outDir, Map.of("quant_method", "jtune", "type", type));
    }
}
