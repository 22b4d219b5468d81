package org.jtune.cli.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jtune.tensor.Rng;

/**
 * The text the demo's base model is pre-trained on, standing in for the general text a real
 * pretrained model has read: helpdesk tickets without their labels, and short notes that list the
 * queue names in a random order (so "printer issue" is a known phrase, as it would be in English
 * text, without ever being paired with a ticket). The tokenizer is learned from the same text. The
 * tickets are drawn apart from the labelled splits, so no test ticket is seen even without its label.
 */
final class PretrainingCorpus {
    private PretrainingCorpus() {}

    /** {@code tickets} unlabelled tickets not in {@code taken}, plus one queue-list note per ten tickets. */
    static List<String> generate(int tickets, Rng rng, Set<String> taken) {
        List<String> texts = new ArrayList<>();
        for (HelpdeskTickets.Ticket t : HelpdeskTickets.distinct(tickets, rng, taken)) texts.add(t.text());
        for (int i = 0; i < Math.max(1, tickets / 10); i++) texts.add(queueNote(rng));
        return texts;
    }

    private static String queueNote(Rng rng) {
        List<String> queues = new ArrayList<>(HelpdeskTickets.labels());
        for (int i = queues.size() - 1; i > 0; i--) { // Fisher-Yates with the demo's seeded generator
            int j = rng.nextInt(i + 1);
            queues.set(j, queues.set(i, queues.get(j)));
        }
        return "Helpdesk queues:\n" + String.join("\n", queues);
    }
}
