package org.jtune.models.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.CompositeELResolver;
import org.jtune.JtuneException;

/**
 * Jinjava set up to render Hugging Face chat templates as transformers' Jinja2 environment does:
 * trim_blocks and lstrip_blocks, no trailing newline kept, Python semantics where Jinjava has a legacy
 * mode (operator precedence, map keys, whitespace control), the Jinja2 syntax Jinjava parses otherwise
 * rewritten first ({@link Jinja2Syntax}), Python str methods, True/False printed as Python does, and the
 * globals HF adds:
 * raise_exception(msg), strftime_now(format), a tojson that writes like json.dumps, and the
 * {% generation %} block. Values are never re-rendered as templates (a message containing "{{ x }}" is text).
 */
final class JinjaEnvironment {
    private JinjaEnvironment() {}

    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();
    private static final Jinjava JINJAVA = create();

    private static Jinjava create() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        LegacyOverrides python = LegacyOverrides.newBuilder()
                .withEvaluateMapKeys(true)
                .withIterateOverMapKeys(true)
                .withUsePyishObjectMapper(true)
                .withUseNaturalOperatorPrecedence(true)
                .withParseWhitespaceControlStrictly(true)
                .withAllowAdjacentTextNodes(true)
                .withUseTrimmingForNotesAndExpressions(true)
                .withKeepNullableLoopValues(true)
                .build();
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withLegacyOverrides(python)
                .withNestedInterpretationEnabled(false)
                .withFailOnUnknownTokens(false)
                .withMaxOutputSize(64L << 20)
                .withExecutionMode(new PythonOutput())
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(
                new ELFunctionDefinition("", "raise_exception", JinjaEnvironment.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(
                new ELFunctionDefinition("", "strftime_now", JinjaEnvironment.class, "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFilter(new PythonToJson());
        jinjava.getGlobalContext().registerExpTest(new PythonIterable());
        jinjava.getGlobalContext().registerFilter(new LoopIf());
        jinjava.getGlobalContext().registerTag(new GenerationTag());
        return jinjava;
    }

    /** Renders source with context; origin names the template in error messages. */
    static String render(String source, Map<String, Object> context, String origin) throws JtuneException {
        String src = source.replace("\r\n", "\n").replace('\r', '\n');
        if (src.endsWith("\n")) src = src.substring(0, src.length() - 1);
        src = Jinja2Syntax.rewrite(src);
        RAISED.remove();
        RenderResult result;
        try {
            result = JINJAVA.renderForResult(src, context);
        } catch (RuntimeException e) {
            throw new JtuneException(origin + ": cannot render the chat template: " + e.getMessage(), e);
        } finally {
            String raised = RAISED.get();
            RAISED.remove();
            if (raised != null) throw new JtuneException(origin + ": the chat template refused this conversation: " + raised);
        }
        List<String> fatal = new ArrayList<>();
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                fatal.add("line " + e.getLineno() + ": " + e.getMessage() + (e.getFieldName() == null ? "" : " (in " + e.getFieldName() + ")"));
            }
        }
        if (!fatal.isEmpty()) throw new JtuneException(origin + ": cannot render the chat template: " + String.join("; ", fatal));
        return result.getOutput();
    }

    /** raise_exception(message): stops rendering; the message reaches the caller's JtuneException. */
    static String raiseException(String message) {
        RAISED.set(message);
        throw new IllegalStateException(message);
    }

    /** strftime_now(format): the local time in Python strftime format (%d %b %Y → "26 Jul 2024"). */
    static String strftimeNow(String format) {
        return strftime(LocalDateTime.now(), format);
    }

    static String strftime(LocalDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            String pattern = switch (d) {
                case 'Y' -> "yyyy";
                case 'y' -> "yy";
                case 'm' -> "MM";
                case 'd' -> "dd";
                case 'H' -> "HH";
                case 'I' -> "hh";
                case 'M' -> "mm";
                case 'S' -> "ss";
                case 'p' -> "a";
                case 'b' -> "MMM";
                case 'B' -> "MMMM";
                case 'a' -> "EEE";
                case 'A' -> "EEEE";
                case 'j' -> "DDD";
                default -> null;
            };
            if (pattern != null) out.append(DateTimeFormatter.ofPattern(pattern, Locale.ENGLISH).format(t));
            else if (d == '%') out.append('%');
            else out.append('%').append(d);
        }
        return out.toString();
    }

    /** tojson with Python's json.dumps layout (", " / ": "), and indent=N. */
    static final class PythonToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PythonJson.dumps(var, args.length > 0 && args[0] != null ? Integer.parseInt(args[0]) : -1);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : (args.length > 0 ? args[0] : null);
            return PythonJson.dumps(var, indent instanceof Number n ? n.intValue() : -1);
        }
    }

    /**
     * Jinja2's {@code iterable} test: whatever Python can iterate, strings and mappings included (Jinjava's says no to
     * both; Llama 3.1's template writes a tool result that "is iterable" as JSON, so a string result is quoted).
     */
    static final class PythonIterable implements ExpTest {
        @Override
        public String getName() {
            return "iterable";
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof CharSequence || var instanceof Iterable<?> || var instanceof Map<?, ?> || var instanceof java.util.Iterator<?>
                    || (var != null && var.getClass().isArray());
        }
    }

    /** The items of a filtered loop ({@code for v in seq if cond}) for which cond holds, with v bound to each. */
    static final class LoopIf implements Filter {
        @Override
        public String getName() {
            return Jinja2Syntax.LOOP_IF_FILTER;
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            String condition = args[0];
            String[] names = args[1].split(",");
            List<Object> items = new ArrayList<>();
            com.hubspot.jinjava.util.ObjectIterator.getLoop(var).forEachRemaining(items::add);
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                try (var scope = interpreter.enterScope()) {
                    bind(interpreter, names, item);
                    Object ok = interpreter.resolveELExpression(condition, interpreter.getLineNumber());
                    if (com.hubspot.jinjava.util.ObjectTruthValue.evaluate(ok)) kept.add(item);
                }
            }
            return kept;
        }

        private static void bind(JinjavaInterpreter interpreter, String[] names, Object item) {
            if (names.length == 1) {
                interpreter.getContext().put(names[0], item);
                return;
            }
            List<Object> parts = new ArrayList<>();
            if (item instanceof Map.Entry<?, ?> e) {
                parts.add(e.getKey());
                parts.add(e.getValue());
            } else if (item instanceof Iterable<?> it) {
                for (Object o : it) parts.add(o);
            } else if (item != null && item.getClass().isArray()) {
                for (int i = 0; i < java.lang.reflect.Array.getLength(item); i++) parts.add(java.lang.reflect.Array.get(item, i));
            }
            for (int i = 0; i < names.length; i++) interpreter.getContext().put(names[i], i < parts.size() ? parts.get(i) : null);
        }
    }

    /** Prints booleans as Python does (True / False); everything else as Jinjava's Python-like output. */
    static final class PythonOutput implements com.hubspot.jinjava.mode.ExecutionMode {
        @Override
        public void prepareContext(com.hubspot.jinjava.interpret.Context context) {
            context.setExpressionStrategy((master, interpreter) -> {
                Object value = interpreter.resolveELExpression(master.getExpr(), master.getLineNumber());
                String text = value instanceof Boolean b ? (b ? "True" : "False") : interpreter.getAsString(value);
                return new com.hubspot.jinjava.tree.output.RenderedOutputNode(text);
            });
        }
    }

    /** transformers' {% generation %}...{% endgeneration %}: marks assistant text for masks; renders its body. */
    static final class GenerationTag implements Tag {
        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            StringBuilder out = new StringBuilder();
            for (Node child : tagNode.getChildren()) out.append(child.render(interpreter).getValue());
            return out.toString();
        }
    }
}
