package org.jtune.cli.demo;

import org.jtune.io.AtomicFile;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.tensor.Rng;

/**
 * Step 1's files under {@code dir/data}: train, validation and test splits of helpdesk tickets in
 * OpenAI chat JSONL (system "Route the ticket.", the ticket, the queue as the assistant's answer),
 * no ticket in two splits, and the unlabelled pre-training corpus as {"text": ...} lines. The same
 * size gives the same files.
 *
 * @param corpus the pre-training texts (also what the tokenizer is learned from)
 */
record DemoDataset(Path train, Path validation, Path test, Path pretrain, List<String> corpus) {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long SEED = 2026;

    static DemoDataset write(Path dir, DemoSize size) throws JtuneException {
        Path data = dir.resolve("data");
        try {
            Files.createDirectories(data);
        } catch (java.io.IOException e) {
            throw new JtuneException("cannot create " + data + ": " + e.getMessage(), e);
        }
        Rng rng = new Rng(SEED);
        Set<String> taken = new HashSet<>();
        Path train = writeChat(data.resolve("train.jsonl"), HelpdeskTickets.distinct(size.train(), rng, taken));
        Path validation = writeChat(data.resolve("validation.jsonl"), HelpdeskTickets.distinct(size.validation(), rng, taken));
        Path test = writeChat(data.resolve("test.jsonl"), HelpdeskTickets.distinct(size.test(), rng, taken));
        List<String> corpus = PretrainingCorpus.generate(2 * size.train(), rng, taken);
        Path pretrain = writeText(data.resolve("pretrain.jsonl"), corpus);
        return new DemoDataset(train, validation, test, pretrain, corpus);
    }

    /** One chat line: the system prompt, the ticket and the queue it goes to. */
    static ObjectNode chatLine(HelpdeskTickets.Ticket t) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode messages = o.putArray("messages");
        messages.addObject().put("role", "system").put("content", HelpdeskTickets.SYSTEM);
        messages.addObject().put("role", "user").put("content", t.text());
        messages.addObject().put("role", "assistant").put("content", t.label());
        return o;
    }

    private static Path writeChat(Path file, List<HelpdeskTickets.Ticket> tickets) throws JtuneException {
        StringBuilder sb = new StringBuilder();
        for (var t : tickets) sb.append(chatLine(t)).append('\n');
        AtomicFile.writeString(file, sb.toString());
        return file;
    }

    private static Path writeText(Path file, List<String> texts) throws JtuneException {
        StringBuilder sb = new StringBuilder();
        for (String t : texts) sb.append(JSON.createObjectNode().put("text", t)).append('\n');
        AtomicFile.writeString(file, sb.toString());
        return file;
    }
}
