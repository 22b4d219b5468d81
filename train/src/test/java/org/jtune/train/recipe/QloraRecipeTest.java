package org.jtune.train.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The QLoRA keys as Axolotl spells them (adapter: qlora, load_in_4bit, bnb_4bit_quant_type,
 * bnb_4bit_use_double_quant, bnb_4bit_compute_dtype): read, defaulted, written back, and the contradictions
 * refused with the key and line named.
 */
class QloraRecipeTest {
    private static final Path DIR = Path.of("/recipes");
    private static final String MINIMAL = """
            base_model: /models/base
            datasets:
              - path: /data/train.jsonl
                type: chat
            """;

    @Test
    void qloraKeysAreReadAndWrittenBack() throws Exception {
        RecipeConfig c = RecipeReader.parse(MINIMAL + """
                adapter: qlora
                load_in_4bit: true
                bnb_4bit_quant_type: nf4
                bnb_4bit_use_double_quant: false
                bnb_4bit_compute_dtype: bfloat16
                """, "q.yaml", DIR);
        assertEquals(RecipeConfig.Adapter.QLORA, c.adapter());
        assertTrue(c.adapter().isLora());
        assertTrue(c.loadIn4bit());
        assertFalse(c.bnb4bitUseDoubleQuant());
        assertEquals("bfloat16", c.bnb4bitComputeDtype());
        String yaml = c.toYaml();
        assertTrue(yaml.contains("load_in_4bit: true") && yaml.contains("bnb_4bit_quant_type: nf4"), yaml);
        assertEquals(c, RecipeReader.parse(yaml, "copy", DIR));
        RecipeConfig d = RecipeReader.parse(MINIMAL, "d.yaml", DIR);
        assertFalse(d.loadIn4bit());
        assertTrue(d.bnb4bitUseDoubleQuant());
        assertTrue(RecipeConfig.keys().contains("adam_beta1"), "digits at a word's end stay attached");
    }

    @Test
    void contradictionsAreNamed() {
        String m = assertThrows(RecipeException.class, () -> RecipeReader.parse(MINIMAL + "adapter: qlora\n", "q.yaml", DIR)).getMessage();
        assertTrue(m.contains("load_in_4bit: true"), m);
        m = assertThrows(RecipeException.class, () -> RecipeReader.parse(MINIMAL + "load_in_4bit: true\n", "q.yaml", DIR)).getMessage();
        assertTrue(m.contains("q.yaml line 5") && m.contains("adapter: qlora"), m);
        m = assertThrows(RecipeException.class, () -> RecipeReader.parse(MINIMAL + "adapter: qlora\nload_in_4bit: true\nbnb_4bit_quant_type: fp4\n",
                "q.yaml", DIR)).getMessage();
        assertTrue(m.contains("bnb_4bit_quant_type") && m.contains("fp4"), m);
        m = assertThrows(RecipeException.class, () -> RecipeReader.parse(MINIMAL + "bnb_4bit_compute_dtype: float8\n", "q.yaml", DIR)).getMessage();
        assertTrue(m.contains("float8"), m);
    }
}
