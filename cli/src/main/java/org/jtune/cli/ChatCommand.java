package org.jtune.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.generate.Generator;
import org.jtune.models.CausalLM;
import org.jtune.models.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * `jtune chat`: an interactive conversation through the model's chat template; answers stream as they
 * are generated. When the conversation no longer fits the model's context (with room for an answer),
 * the oldest turns are dropped, and the user is told; a single message too long to fit is refused.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Chat with a model on the terminal. Type a message and press Enter; /reset starts over, /exit (or end of input) quits.")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions options;

    @Option(names = "--system", description = "System message at the start of the conversation (default: the one the adapter "
            + "or model was trained with, if any; \"\" for none).")
    String system;

    @Override
    public Integer call() {
        try {
            options.validate();
        } catch (JtuneException e) {
            System.err.println("jtune chat: " + e.getMessage());
            return 2;
        }
        try (CausalLM model = options.load()) {
            Tokenizer tok = options.tokenizer();
            ChatTemplate template = options.template();
            var sampling = options.sampling(model, tok);
            List<Message> messages = new ArrayList<>();
            String sys = options.systemMessage(system);
            boolean hasSystem = sys != null && !sys.isEmpty();
            if (hasSystem) messages.add(Message.system(sys));
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (true) {
                System.err.print("> ");
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) return 0;
                if (line.strip().equals("/reset")) {
                    messages.subList(hasSystem ? 1 : 0, messages.size()).clear();
                    continue;
                }
                if (line.isBlank()) continue;
                messages.add(Message.user(line));
                int[] ids = fitContext(messages, template, tok, model.config().maxPositionEmbeddings());
                if (ids == null) continue;
                Generator.Result r = Generator.generate(model, List.of(ids), sampling, out -> tok.decode(out, true),
                        new GenerateCommand.StreamingPrinter(tok)).getFirst();
                System.out.println();
                messages.add(Message.assistant(r.text() == null ? "" : r.text().strip()));
            }
        } catch (JtuneException e) {
            System.err.println("jtune chat: " + e.getMessage());
            return 1;
        } catch (Exception | Error e) {
            return CliErrors.report("jtune chat", e, 1);
        }
    }

    /**
     * The prompt of the conversation, after dropping its oldest turns (a user message and the answer
     * to it, after the system message) until it leaves room for an answer: min(--max-new-tokens, half
     * the context). Says on stderr what was dropped. Returns null, having removed the new message, when
     * the newest message alone does not fit. A system message at the start stays (whether it came from --system or from
     * training: the caller once passed "--system was given" and so dropped a trained one and pinned a user turn under
     * {@code --system ""}).
     */
    int[] fitContext(List<Message> messages, ChatTemplate template, Tokenizer tok, int context) throws JtuneException {
        int keep = !messages.isEmpty() && messages.getFirst().role().equals("system") ? 1 : 0;
        int room = Math.min(options.maxNewTokens, context / 2);
        int dropped = 0;
        while (true) {
            int[] ids = tok.encode(template.render(messages, true, null), false);
            if (ids.length + room <= context) {
                if (dropped > 0) {
                    System.err.printf("(dropped the %d oldest message%s to fit the model's context of %d tokens)%n", dropped,
                            dropped == 1 ? "" : "s", context);
                }
                return ids;
            }
            if (messages.size() - keep <= 1) {
                messages.removeLast();
                System.err.printf("(that message is %d tokens with the template; with room for an answer the model's context of %d "
                        + "tokens leaves %d: not sent)%n", ids.length, context, context - room);
                return null;
            }
            messages.remove(keep); // the oldest user message; its answer goes with it
            dropped++;
            if (messages.size() - keep > 1 && !messages.get(keep).role().equals("user")) {
                messages.remove(keep);
                dropped++;
            }
        }
    }
}
