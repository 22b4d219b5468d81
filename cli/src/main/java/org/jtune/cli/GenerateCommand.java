package org.jtune.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.Generator;
import org.jtune.models.CausalLM;
import org.jtune.models.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** `jtune generate`: one completion of a prompt (or of a chat message with --chat), streamed to stdout. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt. Greedy unless --temperature > 0. --json prints "
                + "{\"prompt_ids\":[..],\"output_ids\":[..],\"text\":\"..\"} instead of streaming the text. "
                + "--json-schema FILE (or --json-object) makes the answer JSON of that schema.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Option(names = "--prompt", required = true, description = "The prompt (encoded with the tokenizer's special tokens, e.g. BOS).")
    String prompt;

    @Option(names = "--chat", description = "Treat the prompt as a user message and render it with the chat template.")
    boolean chat;

    @Option(names = "--system", description = "System message for --chat (default: the one the adapter or model was trained "
            + "with, if any; \"\" for none).")
    String system;

    @Option(names = "--json", description = "Print one JSON object on stdout.")
    boolean json;

    @Mixin
    JsonSchemaOption jsonSchema;

    @Override
    public Integer call() {
        try {
            options.validate();
            jsonSchema.schema();
        } catch (JtuneException e) {
            System.err.println("jtune generate: " + e.getMessage());
            return 2;
        }
        try (CausalLM model = options.load()) {
            Tokenizer tok = options.tokenizer();
            int[] ids;
            if (chat) {
                String sys = options.systemMessage(system);
                List<Message> messages = sys == null || sys.isEmpty() ? List.of(Message.user(prompt)) : List.of(Message.system(sys), Message.user(prompt));
                ids = tok.encode(options.template().render(messages, true, null), false);
            } else {
                ids = tok.encode(prompt, true);
            }
            var sampling = jsonSchema.apply(options.sampling(model, tok), tok);
            Generator.TokenListener stream = json ? null : new StreamingPrinter(tok);
            Generator.Result r = Generator.generate(model, List.of(ids), sampling, out -> tok.decode(out, true), stream).getFirst();
            if (json) {
                ObjectMapper m = new ObjectMapper();
                ObjectNode o = m.createObjectNode();
                ids(o.putArray("prompt_ids"), r.promptIds());
                ids(o.putArray("output_ids"), r.outputIds());
                o.put("text", r.text());
                o.put("finish", r.finish().name().toLowerCase());
                System.out.println(m.writeValueAsString(o));
            } else {
                System.out.println();
            }
            return 0;
        } catch (JtuneException e) {
            System.err.println("jtune generate: " + e.getMessage());
            return 1;
        } catch (Exception | Error e) {
            return CliErrors.report("jtune generate", e, 1);
        }
    }

    private static void ids(com.fasterxml.jackson.databind.node.ArrayNode a, int[] ids) {
        for (int id : ids) a.add(id);
    }

    /** Prints the text of each new token as it arrives (decoding the whole output keeps multi-byte characters intact). */
    static final class StreamingPrinter implements Generator.TokenListener {
        private final Tokenizer tok;
        private final java.util.List<Integer> out = new java.util.ArrayList<>();
        private int printed;

        StreamingPrinter(Tokenizer tok) {
            this.tok = tok;
        }

        @Override
        public void onToken(int sequence, int tokenId) {
            out.add(tokenId);
            String text = tok.decode(out.stream().mapToInt(Integer::intValue).toArray(), true);
            if (text.length() > printed && !text.endsWith("\uFFFD")) {
                System.out.print(text.substring(printed));
                System.out.flush();
                printed = text.length();
            }
        }
    }
}
