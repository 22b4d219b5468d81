package org.jtune.cli.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jtune.tensor.Rng;

/**
 * The demo's domain data, generated from templates with a seeded generator: IT-helpdesk tickets
 * routed to one of five queues. Each intent has its own phrasings and slot fillers, with greetings,
 * sign-offs and small variations shared by all, so the classes overlap in wording as real tickets do.
 * Intents take turns, so every split is balanced.
 */
final class HelpdeskTickets {
    static final String SYSTEM = "Route the ticket.";

    record Ticket(String text, String label) {}

    private static final String[][] INTENTS = {
        {"password reset",
            "I forgot my password for {app}.", "Please reset my password for {app}.", "My password for {app} expired {when}.",
            "I am locked out of {app} after too many attempts.", "Cannot log in to {app}, it says my password is wrong.",
            "Need a new password for {app}, the old one stopped working {when}.", "My account for {app} is locked {when}.",
            "The password reset link for {app} does not work."},
        {"vpn problem",
            "The VPN keeps disconnecting {when}.", "I cannot connect to the VPN from {place}.", "VPN login fails {when}.",
            "The VPN is very slow from {place}.", "My VPN client shows an error {when}.", "Can't reach the intranet over the VPN from {place}.",
            "Remote access from {place} stopped working {when}.", "The VPN asks for my token again and again {when}."},
        {"printer issue",
            "The printer on {floor} is jammed.", "Printing to the {floor} printer fails {when}.", "The {floor} printer is out of toner.",
            "My documents print blank on {floor}.", "The printer on {floor} shows an error {when}.", "Nothing comes out of the {floor} printer.",
            "The {floor} printer prints everything twice {when}.", "Scanning on the {floor} copier is broken {when}."},
        {"new hardware",
            "I need a new {device}.", "My {device} is broken, please send a replacement.", "Can I get a second {device} for my desk?",
            "The {device} stopped working {when}.", "Requesting a {device} for a new colleague.", "My {device} is too old and very slow.",
            "I spilled coffee on my {device} {when}.", "Could you order a {device} for the meeting room on {floor}?"},
        {"email quota",
            "My mailbox is full {when}.", "I cannot send email, the quota is exceeded {when}.", "Outlook says my mailbox is over its limit {when}.",
            "Please increase my email storage, {when} I cannot receive anything.", "Emails bounce because my inbox is full {when}.",
            "I get a quota warning for my mailbox {when}.", "My shared mailbox for {team} is full.", "The {team} mailbox is over its quota {when}."},
    };
    private static final String[] APPS = {"email", "the HR portal", "Jira", "the payroll app", "my laptop", "Confluence", "SAP", "the wiki"};
    private static final String[] WHEN = {"since this morning", "every hour", "since yesterday", "after the update", "today", "again",
        "since Monday", "all week"};
    private static final String[] PLACES = {"home", "the hotel", "the Berlin office", "a cafe", "the train", "the airport"};
    private static final String[] FLOORS = {"second floor", "third floor", "ground floor", "east wing", "reception", "fourth floor"};
    private static final String[] DEVICES = {"monitor", "keyboard", "mouse", "laptop", "headset", "docking station", "webcam"};
    private static final String[] TEAMS = {"sales", "finance", "support", "marketing", "legal"};
    private static final String[] OPENINGS = {"", "", "", "Hi, ", "Hello team, ", "Urgent: ", "Good morning. ", "Hey, ", "Dear IT, "};
    private static final String[] CLOSINGS = {"", "", "", " Thanks.", " Please help.", " Thank you!", " Can someone look at it?",
        " This blocks my work.", " Best regards."};

    private HelpdeskTickets() {}

    static List<String> labels() {
        List<String> l = new ArrayList<>();
        for (String[] intent : INTENTS) l.add(intent[0]);
        return l;
    }

    static List<Ticket> generate(int count, Rng rng) {
        List<Ticket> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String[] intent = INTENTS[i % INTENTS.length];
            out.add(new Ticket(ticketText(intent, rng), intent[0]));
        }
        return out;
    }

    /**
     * {@code count} tickets whose texts are not in {@code taken} nor repeated, added to {@code taken}:
     * splits drawn one after the other with the same set share no ticket.
     */
    static List<Ticket> distinct(int count, Rng rng, Set<String> taken) {
        List<Ticket> out = new ArrayList<>();
        for (int i = 0, tries = 0; i < count; tries++) {
            if (tries > 1000 * (count + 10)) throw new IllegalStateException("cannot draw " + count + " distinct tickets");
            String[] intent = INTENTS[i % INTENTS.length];
            String text = ticketText(intent, rng);
            if (taken.add(text)) {
                out.add(new Ticket(text, intent[0]));
                i++;
            }
        }
        return out;
    }

    private static String ticketText(String[] intent, Rng rng) {
        String template = intent[1 + rng.nextInt(intent.length - 1)];
        return pick(OPENINGS, rng) + fill(template, rng) + pick(CLOSINGS, rng);
    }

    private static String fill(String template, Rng rng) {
        return template.replace("{app}", pick(APPS, rng)).replace("{when}", pick(WHEN, rng)).replace("{place}", pick(PLACES, rng))
                .replace("{floor}", pick(FLOORS, rng)).replace("{device}", pick(DEVICES, rng)).replace("{team}", pick(TEAMS, rng));
    }

    private static String pick(String[] options, Rng rng) {
        return options[rng.nextInt(options.length)];
    }
}
