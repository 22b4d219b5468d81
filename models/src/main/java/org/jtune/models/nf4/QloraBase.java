package org.jtune.models.nf4;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.autograd.Variable;
import org.jtune.io.AtomicFile;
import org.jtune.models.io.StrictJson;
import org.jtune.models.weights.Weight;
import org.jtune.models.weights.WeightTable;
import org.jtune.quant.nf4.Nf4Codec;
import org.jtune.tensor.DType;
import org.jtune.tensor.Tensor;

/**
 * What a QLoRA adapter remembers of its base: {@value #FILE} in the adapter folder says the adapter was
 * trained on its base quantized to NF4 (and whether with double quantization), so that merging and
 * evaluation can rebuild the very base it was trained against (quantization is deterministic). PEFT ignores
 * the file; adapter_config.json stays PEFT's own.
 */
public final class QloraBase {
    public static final String FILE = "jtune_base_quantization.json";

    private QloraBase() {}

    /** Records in {@code adapterDir} that the adapter was trained on an NF4 base. */
    public static void record(Path adapterDir, boolean doubleQuant) throws JtuneException {
        AtomicFile.writeString(adapterDir.resolve(FILE), "{\"quant_type\": \"nf4\", \"double_quant\": " + doubleQuant + ", \"block_size\": 64}\n");
    }

    /** Null when the adapter was trained on its base as stored; else whether the NF4 base used double quantization. */
    public static Boolean recorded(Path adapterDir) throws JtuneException {
        Path f = adapterDir.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        try {
            JsonNode n = StrictJson.mapper().readTree(Files.readString(f));
            if (n == null || !"nf4".equals(n.path("quant_type").asText())) throw new JtuneException(f + ": quant_type must be \"nf4\"");
            return n.path("double_quant").asBoolean(true);
        } catch (IOException e) {
            throw new JtuneException(f + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Replaces every NF4 projection by its dequantized F32 values (the weights a QLoRA adapter merges into). */
    public static List<String> dequantize(WeightTable table) {
        List<String> done = new ArrayList<>();
        for (Weight w : table.all()) {
            Tensor t = w.value().value();
            if (t.dtype() != DType.BLOCK || !(t.blockCodec() instanceof Nf4Codec)) continue;
            w.set(Variable.constant(t.to(DType.F32)));
            done.add(w.name());
        }
        return done;
    }
}
