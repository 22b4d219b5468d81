package org.jtune.cli.demo;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jtune.cli.Main;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command the demo's summary prints parses as a `jtune` command line, also for a folder whose name needs quoting. */
class RepeatCommandsTest {
    @Test
    void printedCommandsParse() {
        for (Path dir : List.of(Path.of("/tmp/jtune-demo-123"), Path.of("/tmp/my demo's folder"))) {
            for (String command : RepeatCommands.of(dir)) {
                List<String> words = shellWords(command);
                assertEquals("jtune", words.getFirst());
                var parsed = new CommandLine(new Main()).parseArgs(words.subList(1, words.size()).toArray(String[]::new));
                assertTrue(parsed.hasSubcommand(), command);
                assertTrue(words.stream().anyMatch(w -> w.startsWith(dir.toString())), "points into the folder: " + words);
            }
        }
    }

    @Test
    void quotesOnlyWhatTheShellWouldSplit() {
        assertEquals("/tmp/a-b_c.d", RepeatCommands.quote("/tmp/a-b_c.d"));
        assertEquals("'/tmp/a b'", RepeatCommands.quote("/tmp/a b"));
        assertEquals(List.of("x", "/tmp/it's here/y"), shellWords("x " + RepeatCommands.quote("/tmp/it's here") + "/y"));
    }

    /** Splits a command line as a POSIX shell does for words built of plain text, backslash escapes and single-quoted parts. */
    private static List<String> shellWords(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false, quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '\'') quoted = false;
                else w.append(c);
            } else if (c == '\\' && i + 1 < line.length()) {
                w.append(line.charAt(++i));
                inWord = true;
            } else if (c == '\'') {
                quoted = true;
                inWord = true;
            } else if (c == ' ') {
                if (inWord) words.add(w.toString());
                w.setLength(0);
                inWord = false;
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (inWord) words.add(w.toString());
        return words;
    }
}
