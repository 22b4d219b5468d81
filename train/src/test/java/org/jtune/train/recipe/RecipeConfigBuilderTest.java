package org.jtune.train.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The typed builder a library user fills: one public setter per recipe key, checking the reader's ranges. */
class RecipeConfigBuilderTest {
    @Test
    void everyRecipeKeyHasATypedSetter() {
        List<String> missing = new ArrayList<>();
        for (var c : RecipeConfig.class.getRecordComponents()) {
            boolean found = false;
            for (Method m : RecipeConfig.Builder.class.getMethods()) {
                if (m.getName().equals(c.getName()) && Modifier.isPublic(m.getModifiers()) && m.getParameterCount() == 1
                        && m.getReturnType() == RecipeConfig.Builder.class) {
                    Class<?> p = m.getParameterTypes()[0];
                    found |= p == c.getType() || (c.getType() == List.class && p == List.class);
                }
            }
            if (!found) missing.add(RecipeConfig.keyOf(c.getName()));
        }
        assertTrue(missing.isEmpty(), "recipe keys without a typed builder setter: " + missing);
    }

    @Test
    void settersCheckRangesNamingTheKey() {
        var b = RecipeConfig.builder();
        assertEquals("lora_r must be in [1, 4096], got 0", assertThrows(IllegalArgumentException.class, () -> b.loraR(0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> b.learningRate(2)).getMessage().startsWith("learning_rate"));
        RecipeConfig r = b.baseModel(Path.of("/m")).loraR(16).excessLengthStrategy(RecipeConfig.ExcessLength.TRUNCATE)
                .warmupSteps(5).build();
        assertEquals(16, r.loraR());
        assertEquals(RecipeConfig.ExcessLength.TRUNCATE, r.excessLengthStrategy());
        assertEquals(null, r.warmupRatio()); // warmup_steps replaces the default ratio
    }
}
