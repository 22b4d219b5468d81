package org.jtune.cli.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Where the demo tells what it does: human text (step headers, indented details) on one stream, and
 * with {@code json} set one JSON object per finished step on another (stdout; the text then goes to
 * stderr, see DemoCommand).
 *
 * @param json null for no JSON lines
 */
record DemoOutput(PrintStream text, PrintStream json) {
    static final int STEPS = 10;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** A step's header, "[3/10] what it does". */
    void step(int n, String what) {
        text.printf("%n[%d/%d] %s%n", n, STEPS, what);
    }

    /** An indented detail line of the current step. */
    void line(String format, Object... args) {
        String s = String.format(Locale.ROOT, format, args);
        text.println(s.isBlank() ? "" : "  " + s);
    }

    /** A fresh JSON object for step {@code n}, named {@code name}; {@link #emit} prints it. */
    ObjectNode record(int n, String name) {
        return MAPPER.createObjectNode().put("step", n).put("name", name);
    }

    void emit(ObjectNode o) {
        if (json != null) json.println(o);
    }
}
