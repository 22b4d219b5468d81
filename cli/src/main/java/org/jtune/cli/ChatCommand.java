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

/** `jtune chat`: an interactive conversation through the model's chat template; answers stream as they are generated. */
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
                int[] ids = tok.encode(template.render(messages, true, null), false);
                Generator.Result r = Generator.generate(model, List.of(ids), sampling, out -> tok.decode(out, true),
                        new GenerateCommand.StreamingPrinter(tok)).getFirst();
                System.out.println();
                messages.add(Message.assistant(r.text() == null ? "" : r.text().strip()));
            }
        } catch (JtuneException e) {
            System.err.println("jtune chat: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            System.err.println("jtune chat: " + e);
            return 1;
        }
    }
}
