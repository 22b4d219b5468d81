package org.jtune.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.jtune.models.chat.PromptFormat;
import org.jtune.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's "Use as a library" example, taken from README.md itself (so the two cannot drift apart),
 * compiled with javac against the library's class path and run on stories260K: it prints a completion,
 * an answer and metrics, and leaves a PEFT adapter that carries its chat template.
 */
class ReadmeExampleTest {
    @TempDir
    Path dir;

    static String example() throws Exception {
        Path readme = Path.of("").toAbsolutePath().getParent().resolve("README.md");
        String text = Files.readString(readme);
        int section = text.indexOf("## Use as a library");
        assertTrue(section >= 0, "README.md has no \"Use as a library\" section");
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(text);
        assertTrue(m.find(section), "no java block in README's \"Use as a library\" section");
        return m.group(1);
    }

    @Test
    void readmeExampleCompilesAndRuns() throws Exception {
        Path model = SharedData.require("models/stories260K");
        String source = example();
        assertTrue(source.contains("public class Quickstart"), source);
        assertTrue(source.lines().filter(l -> !l.isBlank() && !l.startsWith("import")).count() <= 22, "the example stays short");

        Path src = Files.createDirectories(dir.resolve("src")).resolve("Quickstart.java");
        Files.writeString(src, source);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, "--add-modules", "jdk.incubator.vector", "-proc:none",
                "-cp", System.getProperty("java.class.path"), "-d", classes.toString(), src.toString());
        assertEquals(0, rc, diagnostics.toString(StandardCharsets.UTF_8));

        Path work = dir.resolve("work");
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            loader.loadClass("Quickstart").getMethod("main", String[].class).invoke(null, (Object) new String[] {model.toString(), work.toString()});
        } finally {
            System.setOut(old);
        }
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(3, lines.size(), String.join("\n", lines));
        assertTrue(!lines.get(0).isBlank(), "a completion");
        assertTrue(lines.get(2).contains("exact_match"), lines.get(2));
        Path adapter = work.resolve("adapter");
        assertTrue(Files.isRegularFile(adapter.resolve("adapter_model.safetensors")));
        assertTrue(PromptFormat.hasTemplate(adapter), "the saved adapter carries its chat template");
        assertTrue(Files.isRegularFile(work.resolve("run").resolve("metrics.jsonl")));
    }
}
