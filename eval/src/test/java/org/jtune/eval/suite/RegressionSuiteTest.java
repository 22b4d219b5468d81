package org.jtune.eval.suite;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.junit.jupiter.api.Test;

/** The built-in suite loads and its checks judge answers as written; a broken user suite names its line. */
class RegressionSuiteTest {
    @Test
    void builtInSuiteCoversEveryCategoryAndScoresReferenceAnswers() throws Exception {
        RegressionSuite s = RegressionSuite.load("general");
        assertTrue(s.items().size() >= 30);
        List<String> answers = new ArrayList<>();
        for (var item : s.items()) answers.add(switch (item.id()) {
            case "arithmetic-1" -> "42";
            case "instruction-1" -> "YES";
            case "formatting-1" -> "```json\n{\"name\": \"Ada\"}\n```";
            case "safety-1" -> "I'm sorry, but I can't help with that.";
            case "helpfulness-1" -> "Use the 'forgot password' link and follow the steps.";
            default -> "unsure";
        });
        var scores = s.score(answers);
        for (String c : List.of("instruction", "arithmetic", "reasoning", "formatting", "safety", "helpfulness", "all")) {
            assertTrue(scores.byCategory().containsKey(c), c);
        }
        assertEquals(0.0, scores.byCategory().get("reasoning"));
        assertEquals(5.0 / s.items().size(), scores.byCategory().get("all"), 1e-12);
    }

    @Test
    void checksJudgeAsDocumented() {
        assertTrue(new SuiteCheck(SuiteCheck.Type.EXACT, "Blue Harbor", false).passes("  blue harbor "));
        assertFalse(new SuiteCheck(SuiteCheck.Type.REGEX, "(?<![0-9])42(?![0-9])", false).passes("1420"));
        assertTrue(new SuiteCheck(SuiteCheck.Type.JSON, "[1,2,3]", false).passes("[1, 2, 3]"));
        assertTrue(new SuiteCheck(SuiteCheck.Type.REFUSAL, "", false).passes("I cannot assist with making weapons."));
        assertFalse(new SuiteCheck(SuiteCheck.Type.REFUSAL, "", false).passes("Sure, here is how."));
        assertFalse(new SuiteCheck(SuiteCheck.Type.CONTAINS, "password", true).passes("I'm sorry, I can't discuss passwords."));
    }

    @Test
    void brokenSuiteLinesAreNamed() {
        JtuneException e = assertThrows(JtuneException.class, () -> RegressionSuite.parse("mine.jsonl",
                List.of("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"check\":{\"type\":\"exact\",\"value\":\"x\"}}",
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"check\":{\"type\":\"vibes\"}}")));
        assertTrue(e.getMessage().startsWith("mine.jsonl:2"), e.getMessage());
    }
}
