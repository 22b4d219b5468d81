package org.jtune.models.nf4;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.io.StrictJson;

/**
 * The {@code quantization_config} of a Hugging Face config.json that transformers writes for a model
 * saved 4-bit by bitsandbytes ({@code BitsAndBytesConfig}): {@code quant_method: "bitsandbytes"},
 * {@code load_in_4bit}, {@code bnb_4bit_quant_type} ("nf4"; "fp4" is refused), {@code
 * bnb_4bit_use_double_quant}, {@code bnb_4bit_compute_dtype} and {@code llm_int8_skip_modules} (modules
 * kept in full precision). Also what a recipe's Axolotl keys of the same names ask for.
 */
public record QuantizationConfig(boolean loadIn4bit, String quantType, boolean doubleQuant, String computeDtype, List<String> skipModules) {
    public QuantizationConfig {
        skipModules = List.copyOf(skipModules);
    }

    /** The bitsandbytes 4-bit quantization_config of a model folder's config.json, or null when it has none (or another quant_method's). */
    public static QuantizationConfig read(Path dir) throws JtuneException {
        Path file = Files.isDirectory(dir) ? dir.resolve("config.json") : dir;
        JsonNode root;
        try {
            root = StrictJson.mapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new JtuneException(file + ": cannot read config: " + e.getMessage(), e);
        }
        JsonNode q = root == null ? null : root.get("quantization_config");
        if (q == null || q.isNull()) return null;
        String where = file + ": quantization_config";
        if (!q.isObject()) throw new JtuneException(where + " is not a JSON object");
        String method = q.path("quant_method").asText("bitsandbytes");
        if (!method.equals("bitsandbytes")) return null; // another quantizer's folder (jtune quantize's own), read elsewhere
        if (q.path("load_in_8bit").asBoolean(false)) throw new JtuneException(where + ".load_in_8bit: 8-bit (LLM.int8) checkpoints are not supported; use a 4-bit nf4 or an unquantized checkpoint");
        if (!q.path("load_in_4bit").asBoolean(false)) return null;
        String type = q.path("bnb_4bit_quant_type").asText("fp4");
        if (!type.equals("nf4")) throw new JtuneException(where + ".bnb_4bit_quant_type is \"" + type + "\"; jtune reads nf4 only");
        List<String> skip = new ArrayList<>();
        JsonNode s = q.get("llm_int8_skip_modules");
        if (s != null && s.isArray()) s.forEach(n -> skip.add(n.asText()));
        return new QuantizationConfig(true, type, q.path("bnb_4bit_use_double_quant").asBoolean(false),
                q.path("bnb_4bit_compute_dtype").asText("float32"), skip);
    }
}
