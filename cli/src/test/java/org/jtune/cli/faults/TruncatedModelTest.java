package org.jtune.cli.faults;

import static org.junit.jupiter.api.Assertions.*;

import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 case 11: a model file truncated in place while jtune holds it used to kill the JVM with
 * SIGBUS (and leave hs_err_pid*.log in the working folder). A small file is now read into memory, so
 * the chat goes on; a large one stays mapped, and the truncation is reported in one line before the
 * next step touches it (shown here by mapping even the small file, -Djtune.mapMinBytes=0).
 */
class TruncatedModelTest {
    @Test
    void aCopiedModelFileTruncatedDuringAChatIsHarmless(@TempDir Path tmp) throws Exception {
        ChildJtune.Outcome o = chatThenTruncate(tmp, List.of());
        assertEquals(0, o.exit(), o.toString());
        assertEquals(List.of(), KillScenarios.hs_errs(tmp.resolve("work")));
    }

    @Test
    void aMappedModelFileTruncatedDuringAChatIsNamedInOneLine(@TempDir Path tmp) throws Exception {
        ChildJtune.Outcome o = chatThenTruncate(tmp, List.of("-Djtune.mapMinBytes=0"));
        assertEquals(1, o.exit(), o.toString()); // not 134 (SIGABRT after SIGBUS)
        String last = o.lastErrLine().replaceAll("^(> )+", ""); // chat's prompts, on stderr, precede it (stdin is a pipe, not echoed)
        assertTrue(last.startsWith("jtune chat: ") && last.contains("model.safetensors was truncated to 100 bytes while jtune had it mapped"),
                o.toString());
        assertFalse(o.err().contains("SIGBUS") || o.err().contains("\tat "), o.toString());
        assertEquals(List.of(), KillScenarios.hs_errs(tmp.resolve("work")));
    }

    private static ChildJtune.Outcome chatThenTruncate(Path tmp, List<String> jvmFlags) throws Exception {
        FaultFixture f = new FaultFixture(tmp);
        try (ChildJtune chat = ChildJtune.start(tmp.resolve("work"), jvmFlags, 0, "chat", "--model", f.model.toString(),
                "--chat-template", "llama2", "--max-new-tokens", "8")) {
            OutputStream in = chat.stdin();
            waitForPrompts(chat, 1);
            in.write("Once upon a time\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            waitForPrompts(chat, 2); // the first answer is done
            try (FileChannel ch = FileChannel.open(f.model.resolve("model.safetensors"), StandardOpenOption.WRITE)) {
                ch.truncate(100);
            }
            in.write("and then\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            in.close();
            return chat.await(120);
        }
    }

    private static void waitForPrompts(ChildJtune chat, int n) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (chat.isAlive() && System.nanoTime() < deadline && count(chat.errSoFar(), "> ") < n) Thread.sleep(10);
        assertTrue(count(chat.errSoFar(), "> ") >= n, "no prompt from jtune chat:\n" + chat.errSoFar());
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) n++;
        return n;
    }
}
