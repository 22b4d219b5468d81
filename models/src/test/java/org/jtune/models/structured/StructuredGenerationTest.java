package org.jtune.models.structured;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.generate.Generator;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.Sequence;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * The real stories260K model (a children's-story model that has never seen JSON) made to answer in JSON of a
 * schema through the step engine: greedy and sampled, several prompts in one batch, every answer ends at the
 * end id and is accepted by networknt's validator; unconstrained, the same prompts give prose.
 */
class StructuredGenerationTest {
    private static final String SCHEMA = """
            {"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"},
             "mood":{"enum":["happy","sad"]},"friends":{"type":"array","items":{"type":"string","maxLength":8},"maxItems":2}},
             "required":["name","age","mood"],"additionalProperties":false}""";

    @Test
    void aStoryModelAnswersInJsonTheValidatorAccepts() throws Exception {
        Path dir = SharedData.require("models/stories260K");
        try (CausalLM model = Architectures.load(dir)) {
            Tokenizer tok = Tokenizer.load(dir);
            List<int[]> prompts = List.of(tok.encode("Once upon a time", true), tok.encode("Lily had a dog", true), tok.encode("The sun", true));
            SamplingConfig plain = SamplingConfig.greedyUntilEos(model.config(), tok, 200);
            JsonConstraint json = JsonConstraint.schema(SchemaOracle.json(SCHEMA), tok, plain.stopIds());
            for (SamplingConfig config : List.of(plain.withProcessor(json), plain.withProcessor(json).withTemperature(1f).withSeed(5))) {
                List<Generator.Result> results = Generator.generate(model, prompts, config, ids -> tok.decode(ids, true), null);
                for (Generator.Result r : results) {
                    assertEquals(Sequence.Finish.STOP_ID, r.finish(), "ended by the end id once the value was complete: " + r.text() + " " + java.util.Arrays.toString(r.outputIds()) + " " + r.finish());
                    assertTrue(SchemaOracle.valid(SCHEMA, r.text().strip().getBytes(UTF_8)), "not valid: " + r.text());
                }
            }
            String prose = Generator.generate(model, prompts.subList(0, 1), plain, ids -> tok.decode(ids, true), null).getFirst().text();
            assertNotNull(prose);
            assertNotEquals('{', prose.strip().charAt(0), "without the constraint the model tells a story: " + prose);
        }
    }
}
