package org.jtune.serve.text;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.chat.PromptFormat;

/**
 * How one served name renders chat requests, resolved once at start as `jtune generate --chat` and
 * `jtune eval` resolve it for the same model and adapter: the chat template is --chat-template when
 * given, else the adapter's own (the one it was trained with), else the model's; the system message is
 * --system when given ("" for none), else the one training recorded in the adapter folder, else in the
 * model folder (a merged or fully fine-tuned model), see {@link PromptFormat#systemMessage}. A request's
 * own system message always wins; this one goes first only into a conversation without one. Immutable.
 *
 * @param template      null when neither flag, adapter nor model gives one (chat requests are then 400s)
 * @param systemMessage the system message, or null (no flag and none recorded, or "" given or recorded)
 */
public record ChatFormat(ChatTemplate template, String systemMessage) {
    public ChatFormat {
        if (systemMessage != null && systemMessage.isEmpty()) systemMessage = null;
    }

    /**
     * The format of {@code modelDir} with {@code adapterDir} (null: the base model alone), --chat-template
     * {@code templateFlag} and --system {@code systemFlag} (either may be null: not given).
     */
    public static ChatFormat resolve(Path modelDir, Path adapterDir, String templateFlag, String systemFlag) throws JtuneException {
        return new ChatFormat(ChatTemplate.resolveIfAny(modelDir, adapterDir, templateFlag, "--chat-template"),
                PromptFormat.systemMessage(modelDir, adapterDir, systemFlag));
    }

    /** The conversation as the template sees it: the system message put first when the request has none. */
    public List<Message> messages(List<Message> request) {
        if (systemMessage == null) return request;
        for (Message m : request) if (m.role().equals("system")) return request;
        List<Message> out = new ArrayList<>(request.size() + 1);
        out.add(Message.system(systemMessage));
        out.addAll(request);
        return out;
    }
}
