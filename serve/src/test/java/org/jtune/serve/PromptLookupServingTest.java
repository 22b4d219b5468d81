package org.jtune.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.completions.CompletionCreateParams;
import java.nio.file.Path;
import org.jtune.serve.engine.BatchingEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server started with prompt lookup (`jtune serve --prompt-lookup 4`) answers greedy requests with Generator's greedy text. */
class PromptLookupServingTest {
    @TempDir
    Path tmp;

    @Test
    void greedyAnswersAreTheSameTokens() throws Exception {
        try (TestServer s = TestServer.start(tmp, new BatchingEngine.Options(4, 16, 2048, 0, null, 4), e -> e)) {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(s.baseUrl() + "/v1").apiKey(TestServer.KEY).maxRetries(0).build();
            for (String prompt : new String[] {"Lily and Tom went to the park. Lily and Tom", "Once upon a time"}) {
                String answer = client.completions().create(CompletionCreateParams.builder().model(TestServer.BASE).prompt(prompt)
                        .maxTokens(80L).temperature(0.0).build()).choices().getFirst().text();
                assertEquals(OpenAiSdkTest.reference(null, s.codec.text(prompt).ids(), 80, s), answer, prompt);
            }
        }
    }
}
