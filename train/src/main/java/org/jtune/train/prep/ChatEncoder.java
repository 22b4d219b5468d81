package org.jtune.train.prep;

import org.jtune.models.chat.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jtune.models.tools.ToolChoice;
import org.jtune.models.tools.ToolSyntax;
import org.jtune.models.tools.ToolUse;
import org.jtune.JtuneException;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.train.data.Conversation;
import org.jtune.train.data.Role;

/**
 * Turns a conversation into tokens with a loss mask through the model's chat template. The whole
 * conversation is rendered and encoded once (as apply_chat_template does, special tokens written by
 * the template, none added); each assistant turn's tokens are found by rendering the conversation up
 * to the turn with the generation prompt (where the answer starts) and up to and including the turn
 * (where it ends, after the template's end-of-turn tokens such as EOS), so the tokens that close a
 * turn are trained and the model learns to stop. Completion data (prompt/completion) trains the
 * completion and EOS; plain text trains everything. A message's "weight" (0 or 1, as in Axolotl)
 * overrides the default for that message: 0 leaves an assistant turn untrained, 1 trains a user turn.
 * A conversation with tools, tool calls or tool results is written as `jtune serve` writes it for the same template
 * ({@link ToolSyntax}: the template's own tool format, Llama 3.1's, or JSON), so a model learns the calls it will be
 * asked to make; an assistant turn that calls tools is trained like any other, tool results like user turns.
 *
 * @param systemMessage   replaces the dataset's system message when not null ("" drops it)
 * @param trainOnInputs   train on every token, not only the assistant's
 */
public record ChatEncoder(ChatTemplate template, Tokenizer tokenizer, String systemMessage, boolean trainOnInputs) {

    public TokenizedExample encode(Conversation c) throws JtuneException {
        String where = c.source().toString();
        if (c.isCompletion()) return encodeCompletion(c, where);
        ToolSyntax.Rendering rendering = rendering(c);
        List<Message> messages = rendering.messages();
        Map<String, Object> variables = rendering.variables();
        int[] ids = tokenizer.encode(template.render(messages, false, variables), false);
        boolean[] trained = new boolean[ids.length];
        if (trainOnInputs) java.util.Arrays.fill(trained, true);
        for (int j = 0; j < messages.size(); j++) {
            boolean assistant = messages.get(j).role().equals(Role.ASSISTANT.wireName());
            Object w = messages.get(j).fields().get(Conversation.WEIGHT);
            if (w == null && !assistant) continue; // the default: trained only with trainOnInputs, marked above
            boolean train = !(w instanceof Number n) || n.intValue() == 1;
            // an assistant turn starts after the generation prompt; another message right after the previous one
            int start = commonPrefix(ids, tokenizer.encode(template.render(messages.subList(0, j), assistant, variables), false));
            int end = commonPrefix(ids, tokenizer.encode(template.render(messages.subList(0, j + 1), false, variables), false));
            for (int i = start; i < end; i++) trained[i] = train;
        }
        return new TokenizedExample(ids, trained, where);
    }

    /**
     * The conversation as the template reads it: the system message replaced or dropped as configured, then its tool use
     * written in the template's tool syntax, with the template variables that carry the tools.
     */
    public ToolSyntax.Rendering rendering(Conversation c) {
        ToolUse use = c.tools().isEmpty() ? null : new ToolUse(c.tools(), ToolChoice.AUTO, true);
        return ToolSyntax.of(template, tokenizer).render(messages(c), use);
    }

    /** The conversation's messages in template form, with the system message replaced or dropped as configured. */
    public List<Message> messages(Conversation c) {
        return withSystemMessage(c.messages(), systemMessage);
    }

    /** {@code messages} with their system messages replaced by {@code systemMessage} (one, first, when there was none), dropped when it is "", kept when null. */
    public static List<Message> withSystemMessage(List<Message> messages, String systemMessage) {
        List<Message> out = new ArrayList<>();
        boolean sawSystem = false;
        for (var m : messages) {
            if (Role.of(m) == Role.SYSTEM) {
                sawSystem = true;
                if (systemMessage == null) out.add(new Message("system", m.content()));
                else if (!systemMessage.isEmpty()) out.add(new Message("system", systemMessage));
            } else {
                out.add(m);
            }
        }
        if (!sawSystem && systemMessage != null && !systemMessage.isEmpty()) out.addFirst(new Message("system", systemMessage));
        return out;
    }

    /** The rendered prompt for generation: every message before the last assistant turn, with the generation prompt. */
    public int[] promptIds(Conversation c) throws JtuneException {
        ToolSyntax.Rendering rendering = rendering(c);
        List<Message> all = rendering.messages();
        int last = all.size();
        for (int i = all.size() - 1; i >= 0; i--) {
            if (all.get(i).role().equals(Role.ASSISTANT.wireName())) {
                last = i;
                break;
            }
        }
        return tokenizer.encode(template.render(all.subList(0, last), true, rendering.variables()), false);
    }

    private TokenizedExample encodeCompletion(Conversation c, String where) {
        int eos = tokenizer.eosIds().length > 0 ? tokenizer.eosIds()[0] : -1;
        List<Integer> ids = new ArrayList<>();
        List<Boolean> trained = new ArrayList<>();
        String prompt = "", completion = "";
        for (var m : c.messages()) {
            if (Role.of(m) == Role.ASSISTANT) completion += m.content();
            else prompt += m.content();
        }
        boolean plainText = completion.isEmpty();
        for (int id : tokenizer.encode(plainText ? prompt : prompt, true)) {
            ids.add(id);
            trained.add(plainText || trainOnInputs);
        }
        if (!plainText) {
            for (int id : tokenizer.encode(completion, false)) {
                ids.add(id);
                trained.add(true);
            }
        }
        if (eos >= 0) {
            ids.add(eos);
            trained.add(true);
        }
        int[] a = ids.stream().mapToInt(Integer::intValue).toArray();
        boolean[] t = new boolean[a.length];
        for (int i = 0; i < t.length; i++) t[i] = trained.get(i);
        return new TokenizedExample(a, t, where);
    }

    /** Length of the common prefix of the full encoding and a prefix rendering's encoding. */
    static int commonPrefix(int[] full, int[] prefix) {
        int n = Math.min(full.length, prefix.length), i = 0;
        while (i < n && full[i] == prefix[i]) i++;
        return i;
    }
}
