package org.jtune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.Message;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.models.tokenizer.TokenizerConfig;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * `jtune chat` trims a conversation that outgrows the context from its oldest turns, keeping a system message at the
 * start whatever gave it (--system or training), dropping a user turn together with its answer, and refusing a newest
 * message that cannot fit alone (stories260K's tokenizer, chatml, a small context).
 */
class ChatContextTest {
    @Test
    void theOldestTurnsGoAndTheSystemMessageStays() throws Exception {
        Path model = SharedData.require("models/stories260K");
        Tokenizer tok = Tokenizer.load(model);
        ChatTemplate template = ChatTemplate.named("chatml").withSpecialTokens(TokenizerConfig.read(model).specialTokens());
        ChatCommand chat = new ChatCommand();
        chat.options = new ModelOptions();
        chat.options.maxNewTokens = 16;
        String turn = "Once upon a time there was a little girl named Lily who loved to play outside.";
        for (boolean withSystem : new boolean[] {true, false}) {
            List<Message> messages = new ArrayList<>();
            if (withSystem) messages.add(Message.system("You tell short stories."));
            for (int i = 0; i < 6; i++) {
                messages.add(Message.user(turn + " " + i));
                messages.add(Message.assistant("She played " + i));
            }
            messages.add(Message.user("The end?"));
            int context = 160;
            int[] ids = chat.fitContext(messages, template, tok, context);
            assertTrue(ids.length + 16 <= context, "fits with room for an answer: " + ids.length);
            assertEquals(withSystem, messages.getFirst().role().equals("system"), "the system message stays: " + messages);
            assertEquals("user", messages.get(withSystem ? 1 : 0).role(), "a turn starts with its user message: " + messages);
            assertEquals("The end?", messages.getLast().content());
            assertTrue(messages.size() < 13 + (withSystem ? 1 : 0), "older turns dropped: " + messages.size());
        }
        List<Message> alone = new ArrayList<>(List.of(Message.system("You tell short stories."), Message.user(turn.repeat(20))));
        assertNull(chat.fitContext(alone, template, tok, 160));
        assertEquals(List.of("system"), alone.stream().map(Message::role).toList(), "the message that cannot fit is not sent");
    }
}
