package org.jtune.cli.demo;

import java.nio.file.Path;
import java.util.List;

/**
 * The `jtune` commands that repeat each step of the demo on its folder, printed in the summary.
 * Outputs of the repeated steps go to new names (…-again) so the demo's own files stay as they were.
 */
final class RepeatCommands {
    private RepeatCommands() {}

    static List<String> of(Path dir) {
        String d = quote(dir.toString());
        String base = d + "/" + DemoRecipes.PRETRAIN_RUN + "/model";
        String adapter = d + "/" + DemoRecipes.LORA_RUN + "/adapter";
        return List.of(
                "jtune data check --data " + d + "/data/train.jsonl --validation " + d + "/data/validation.jsonl --recipe " + d + "/"
                        + DemoRecipes.LORA,
                "jtune train " + d + "/" + DemoRecipes.PRETRAIN + " --output-dir " + d + "/runs/pretrain-again",
                "jtune train " + d + "/" + DemoRecipes.LORA + " --output-dir " + d + "/runs/lora-again",
                "jtune eval --model " + base + " --adapter " + adapter + " --data " + d + "/data/test.jsonl --task classification"
                        + " --baseline " + d + "/eval/baseline --out " + d + "/eval/again",
                "jtune merge --model " + base + " --adapter " + adapter + " --out " + d + "/merged-again",
                "jtune generate --model " + d + "/merged --chat --system " + quote(HelpdeskTickets.SYSTEM)
                        + " --prompt 'The VPN drops every hour.'");
    }

    /** The path as one shell word: quoted when it holds anything but safe characters. */
    static String quote(String s) {
        return s.matches("[A-Za-z0-9_./+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
