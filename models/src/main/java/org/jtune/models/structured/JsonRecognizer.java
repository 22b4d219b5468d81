package org.jtune.models.structured;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jtune.models.structured.JsonShape.AnyValue;
import org.jtune.models.structured.JsonShape.ArrayShape;
import org.jtune.models.structured.JsonShape.Literals;
import org.jtune.models.structured.JsonShape.NumberShape;
import org.jtune.models.structured.JsonShape.ObjectShape;
import org.jtune.models.structured.JsonShape.Ref;
import org.jtune.models.structured.JsonShape.StringShape;
import org.jtune.models.structured.JsonShape.Union;

/**
 * Which bytes may come next in a JSON text that must match a {@link JsonShape}: an immutable recognizer
 * advanced one byte at a time (UTF-8, as tokens spell text), so a constraint can try a token's bytes from
 * any state without undoing anything. The state is a set of stacks of frames — one per reading still open,
 * as a union (anyOf, a type list) may leave several until the bytes tell them apart — each frame one
 * value being read (an object at its next key, a string in an escape, a number in its exponent…).
 *
 * <p>Accepted: RFC 8259 JSON whose whitespace between tokens is one space, or a newline and at most
 * {@value #MAX_INDENT} spaces or tabs of indentation (compact and pretty-printed JSON; a model cannot loop on
 * blank lines, as llama.cpp's JSON grammar also rules), numbers of at most {@value #MAX_NUMBER} bytes, strings that
 * are valid UTF-8, no key twice in one object, and nothing after the value: once it is complete only the
 * end of generation may follow. Keys match declared property names as written (a name spelled with escapes
 * is another key). Equal states are equal objects, so their token masks can be cached.
 */
public final class JsonRecognizer {
    static final int MAX_INDENT = 20;
    static final int MAX_NUMBER = 32;

    private final List<Stack> stacks;

    private JsonRecognizer(List<Stack> stacks) {
        this.stacks = stacks;
    }

    /** Before the first byte of a value of this shape (leading whitespace allowed). */
    public static JsonRecognizer start(JsonShape shape) {
        return new JsonRecognizer(List.of(new Stack(new ValueStart(shape, 0), new Stack(new Done(false), null))));
    }

    /** The state after one more byte (0–255), or null when no JSON text of the shape continues so. */
    public JsonRecognizer advance(int b) {
        if (stacks.size() == 1) {
            List<Stack> out = new ArrayList<>(2);
            feed(stacks.getFirst(), b, out);
            return out.isEmpty() ? null : new JsonRecognizer(out.size() == 1 ? out : dedup(out));
        }
        List<Stack> out = new ArrayList<>(stacks.size() + 1);
        for (Stack s : stacks) feed(s, b, out);
        return out.isEmpty() ? null : new JsonRecognizer(dedup(out));
    }

    /** The state after these bytes, or null when they leave the shape. */
    public JsonRecognizer advance(byte[] bytes) {
        JsonRecognizer r = this;
        for (int i = 0; i < bytes.length && r != null; i++) r = r.advance(bytes[i] & 0xFF);
        return r;
    }

    /** Whether the bytes so far are a whole value of the shape (generation may end here). */
    public boolean complete() {
        for (Stack s : stacks) if (canEnd(s)) return true;
        return false;
    }

    /** Whether some byte may still follow (false once the value is complete and closed). */
    public boolean canContinue() {
        for (Stack s : stacks) if (!(s.top instanceof Done)) return true;
        return false;
    }

    static final int NOT_IN_STRING = -1;

    /**
     * Inside a string value between characters (one reading only): how many more characters it may take
     * ({@link Integer#MAX_VALUE} without a bound); else {@link #NOT_IN_STRING}.
     */
    int stringRoom() {
        if (stacks.size() != 1 || !(stacks.getFirst().top instanceof StringFrame f) || f.lex != 0) return NOT_IN_STRING;
        return f.shape.maxLength() < 0 ? Integer.MAX_VALUE : f.shape.maxLength() - f.chars;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JsonRecognizer r && r.stacks.equals(stacks);
    }

    @Override
    public int hashCode() {
        return stacks.hashCode();
    }

    private static List<Stack> dedup(List<Stack> out) {
        return out.size() == 1 ? out : List.copyOf(new LinkedHashSet<>(out));
    }

    // ---- the stack and its frames ------------------------------------------------------------------

    /** Frames from the innermost value being read down to {@link Done}. */
    record Stack(Frame top, Stack below) {}

    sealed interface Frame {
        /** Adds to out every stack that results from this frame (on top of {@code below}) reading byte b. */
        void step(int b, Stack below, List<Stack> out);

        /** This frame once the value it waits on (pushed above it) is complete; key is the key read, if that was one. */
        default Frame resumed(String key) {
            throw new IllegalStateException(this + " waits on no value");
        }
    }

    private static void feed(Stack s, int b, List<Stack> out) {
        s.top.step(b, s.below, out);
    }

    /** The stack below a completed value, its top told so. */
    private static Stack pop(Stack below, String key) {
        return new Stack(below.top.resumed(key), below.below);
    }

    /** Whether the stack's reading may end here: its value complete, or a number or literal that is whole. */
    private static boolean canEnd(Stack s) {
        return switch (s.top) {
            case Done d -> d.finished;
            case NumberFrame n -> NumberFrame.accepting(n.state) && canEnd(pop(s.below, null));
            case LiteralFrame l -> l.hasWhole() && canEnd(pop(s.below, null));
            default -> false;
        };
    }

    private static boolean whitespace(int b) {
        return b == ' ' || b == '\n' || b == '\t' || b == '\r';
    }

    /**
     * A whitespace run: from ws (0 none yet, 1 after its one space, 2 + k after a newline and k indentation bytes),
     * the state after whitespace byte b, or −1 when the run may not go on so.
     */
    private static int space(int ws, int b) {
        if (ws == 0) return b == ' ' ? 1 : b == '\n' ? 2 : -1;
        return ws >= 2 && ws - 2 < MAX_INDENT && (b == ' ' || b == '\t') ? ws + 1 : -1;
    }

    /** Below every value: nothing may follow the value (finished), or it has not been read yet. */
    record Done(boolean finished) implements Frame {
        public void step(int b, Stack below, List<Stack> out) {}

        public Frame resumed(String key) {
            return new Done(true);
        }
    }

    /** Before a value: whitespace, then its first byte, which picks the frame (or frames, for a union) to read it. */
    record ValueStart(JsonShape shape, int ws) implements Frame {
        public void step(int b, Stack below, List<Stack> out) {
            if (whitespace(b)) {
                if (space(ws, b) > 0) out.add(new Stack(new ValueStart(shape, space(ws, b)), below));
                return;
            }
            begin(shape, b, below, out);
        }

        static void begin(JsonShape shape, int b, Stack below, List<Stack> out) {
            switch (shape) {
                case Ref r -> begin(r.resolve(), b, below, out);
                case Union u -> {
                    for (JsonShape option : u.options()) begin(option, b, below, out);
                }
                case AnyValue a -> {
                    switch (b) {
                        case '{' -> begin(JsonShape.ANY_OBJECT, b, below, out);
                        case '[' -> begin(JsonShape.ANY_ARRAY, b, below, out);
                        case '"' -> begin(JsonShape.ANY_STRING, b, below, out);
                        case 't', 'f' -> begin(JsonShape.BOOLEANS, b, below, out);
                        case 'n' -> begin(JsonShape.NULL, b, below, out);
                        default -> begin(JsonShape.ANY_NUMBER, b, below, out);
                    }
                }
                case ObjectShape o -> {
                    if (b == '{') out.add(new Stack(new ObjectFrame(o, Set.of(), ObjectFrame.OPEN, null, 0), below));
                }
                case ArrayShape a -> {
                    if (b == '[') out.add(new Stack(new ArrayFrame(a, 0, ArrayFrame.OPEN, 0), below));
                }
                case StringShape s -> {
                    if (b == '"') out.add(new Stack(new StringFrame(s, 0, 0), below));
                }
                case NumberShape n -> {
                    int state = NumberFrame.next(-1, b, n.integer());
                    if (state >= 0) out.add(new Stack(new NumberFrame(n.integer(), state, 1), below));
                }
                case Literals l -> new LiteralFrame(l.texts(), 0).step(b, below, out);
            }
        }
    }

    /** An object between '{' and '}': which keys it has, and where it is (before a key, after one, after a value). */
    record ObjectFrame(ObjectShape shape, Set<String> seen, int phase, String key, int ws) implements Frame {
        static final int OPEN = 0, COMMA = 1, IN_KEY = 2, AFTER_KEY = 3, IN_VALUE = 4, AFTER_VALUE = 5;

        public void step(int b, Stack below, List<Stack> out) {
            if (whitespace(b)) {
                if (space(ws, b) > 0) out.add(new Stack(new ObjectFrame(shape, seen, phase, key, space(ws, b)), below));
                return;
            }
            switch (phase) {
                case OPEN, COMMA -> {
                    if (b == '"' && canAddKey()) {
                        out.add(new Stack(new KeyFrame(shape, seen, "", 0), new Stack(new ObjectFrame(shape, seen, IN_KEY, null, 0), below)));
                    } else if (b == '}' && phase == OPEN && seen.containsAll(shape.required())) {
                        out.add(pop(below, null));
                    }
                }
                case AFTER_KEY -> {
                    if (b == ':') {
                        JsonShape value = shape.keys().getOrDefault(key, shape.additional());
                        out.add(new Stack(new ValueStart(value, 0), new Stack(new ObjectFrame(shape, seen, IN_VALUE, null, 0), below)));
                    }
                }
                case AFTER_VALUE -> {
                    if (b == ',' && canAddKey()) out.add(new Stack(new ObjectFrame(shape, seen, COMMA, null, 0), below));
                    else if (b == '}' && seen.containsAll(shape.required())) out.add(pop(below, null));
                }
                default -> throw new IllegalStateException("an object waiting on a value read a byte");
            }
        }

        public Frame resumed(String k) {
            if (phase == IN_KEY) {
                Set<String> more = new HashSet<>(seen);
                more.add(k);
                return new ObjectFrame(shape, Set.copyOf(more), AFTER_KEY, k, 0);
            }
            return new ObjectFrame(shape, seen, AFTER_VALUE, null, 0);
        }

        private boolean canAddKey() {
            if (shape.additional() != null) return true;
            for (String k : shape.keys().keySet()) if (!seen.contains(k)) return true;
            return false;
        }
    }

    /**
     * A key after its opening quote: one of the declared names not yet used, or (when other keys are allowed) any
     * string not yet used. {@code raw} is what was read, as ISO-8859-1 chars of its bytes.
     */
    record KeyFrame(ObjectShape shape, Set<String> seen, String raw, int lex) implements Frame {
        public void step(int b, Stack below, List<Stack> out) {
            if (shape.additional() != null) {
                int r = StringFrame.lexNext(lex, b);
                if (r == StringFrame.CLOSE) {
                    if (!seen.contains(raw)) out.add(pop(below, raw));
                } else if (r >= 0) {
                    out.add(new Stack(new KeyFrame(shape, seen, raw + (char) b, r & StringFrame.STATE), below));
                }
                return;
            }
            if (b == '"' && shape.keys().containsKey(raw) && !seen.contains(raw)) out.add(pop(below, raw));
            String longer = raw + (char) b;
            for (String k : shape.keys().keySet()) {
                if (!seen.contains(k) && k.startsWith(longer)) {
                    out.add(new Stack(new KeyFrame(shape, seen, longer, 0), below));
                    return;
                }
            }
        }
    }

    /** A string after its opening quote: its length so far (kept only when bounded) and where it is in an escape or a UTF-8 character. */
    record StringFrame(StringShape shape, int chars, int lex) implements Frame {
        static final int CLOSE = -2, STATE = 0xFF, CHAR_DONE = 0x100;

        public void step(int b, Stack below, List<Stack> out) {
            int r = lexNext(lex, b);
            if (r == CLOSE) {
                if (chars >= shape.minLength()) out.add(pop(below, null));
                return;
            }
            if (r < 0) return;
            boolean counted = shape.minLength() > 0 || shape.maxLength() >= 0;
            // a counted string takes no \uD800–\uDFFF escape: a surrogate pair is one character in two escapes
            // (the raw UTF-8 of the character is allowed and counted once)
            if (counted && lex == 5 && (b == 'd' || b == 'D')) return;
            int n = counted && (r & CHAR_DONE) != 0 ? chars + 1 : chars;
            if (shape.maxLength() >= 0 && n > shape.maxLength()) return;
            out.add(new Stack(new StringFrame(shape, n, r & STATE), below));
        }

        /**
         * The string lexer: from state lex (0 plain, 1 after a backslash, 2–5 hex digits of a \\u escape left + 1,
         * 6–8 UTF-8 continuation bytes left + 5, 9–12 the narrower second byte after E0, ED, F0, F4), byte b gives the next state — with {@link #CHAR_DONE} set when b
         * starts a character (a backslash starts its escape, so a length bound stops it before it is spelled out)
         * — or {@link #CLOSE} for the closing quote, or −1 when b cannot come here.
         */
        static int lexNext(int lex, int b) {
            return switch (lex) {
                case 0 -> {
                    if (b == '"') yield CLOSE;
                    if (b == '\\') yield 1 | CHAR_DONE;
                    if (b < 0x20) yield -1;
                    if (b < 0x80) yield CHAR_DONE;
                    if (b >= 0xC2 && b <= 0xDF) yield 6 | CHAR_DONE;
                    if (b == 0xE0) yield 9 | CHAR_DONE;
                    if (b == 0xED) yield 10 | CHAR_DONE;
                    if (b >= 0xE1 && b <= 0xEF) yield 7 | CHAR_DONE;
                    if (b == 0xF0) yield 11 | CHAR_DONE;
                    if (b == 0xF4) yield 12 | CHAR_DONE;
                    if (b >= 0xF1 && b <= 0xF3) yield 8 | CHAR_DONE;
                    yield -1;
                }
                case 1 -> b == 'u' ? 5 : "\"\\/bfnrt".indexOf(b) >= 0 ? 0 : -1;
                case 2, 3, 4, 5 -> Character.digit(b, 16) < 0 ? -1 : lex == 2 ? 0 : lex - 1;
                // the second byte after E0, ED, F0 and F4 is narrower: no overlong forms, no surrogates, nothing past U+10FFFF
                case 9 -> b >= 0xA0 && b <= 0xBF ? 6 : -1;
                case 10 -> b >= 0x80 && b <= 0x9F ? 6 : -1;
                case 11 -> b >= 0x90 && b <= 0xBF ? 7 : -1;
                case 12 -> b >= 0x80 && b <= 0x8F ? 7 : -1;
                default -> b < 0x80 || b > 0xBF ? -1 : lex == 6 ? 0 : lex - 1;
            };
        }
    }

    /** A number: the state of RFC 8259's number grammar after the bytes so far, and how many there were. */
    record NumberFrame(boolean integer, int state, int length) implements Frame {
        // after '-', a leading 0, integer digits, '.', fraction digits, 'e', the exponent's sign, exponent digits
        static final int MINUS = 0, ZERO = 1, INT = 2, DOT = 3, FRAC = 4, E = 5, E_SIGN = 6, EXP = 7;

        public void step(int b, Stack below, List<Stack> out) {
            int next = next(state, b, integer);
            if (next >= 0 && length < MAX_NUMBER) out.add(new Stack(new NumberFrame(integer, next, length + 1), below));
            if (accepting(state)) feed(pop(below, null), b, out); // the byte after the number belongs to what holds it
        }

        static boolean accepting(int state) {
            return state == ZERO || state == INT || state == FRAC || state == EXP;
        }

        /** The state after byte b from state (−1: before the first byte), or −1 when b cannot come next. */
        static int next(int state, int b, boolean integer) {
            boolean digit = b >= '0' && b <= '9';
            boolean exponent = (b == 'e' || b == 'E') && !integer;
            return switch (state) {
                case -1 -> b == '-' ? MINUS : b == '0' ? ZERO : digit ? INT : -1;
                case MINUS -> b == '0' ? ZERO : digit ? INT : -1;
                case ZERO -> b == '.' && !integer ? DOT : exponent ? E : -1;
                case INT -> digit ? INT : b == '.' && !integer ? DOT : exponent ? E : -1;
                case DOT -> digit ? FRAC : -1;
                case FRAC -> digit ? FRAC : exponent ? E : -1;
                case E -> b == '+' || b == '-' ? E_SIGN : digit ? EXP : -1;
                case E_SIGN, EXP -> digit ? EXP : -1;
                default -> -1;
            };
        }
    }

    /** One of a set of exact texts (enum, const, true, false, null), {@code pos} bytes of it read. */
    record LiteralFrame(List<String> texts, int pos) implements Frame {
        public void step(int b, Stack below, List<Stack> out) {
            List<String> longer = new ArrayList<>(texts.size());
            for (String t : texts) if (t.length() > pos && t.charAt(pos) == b) longer.add(t);
            if (!longer.isEmpty()) out.add(new Stack(new LiteralFrame(longer.size() == texts.size() ? texts : List.copyOf(longer), pos + 1), below));
            // a whole text ends the value here; the byte belongs to what holds it (only a number literal can be
            // a prefix of another, e.g. enum [1, 12])
            if (pos > 0 && hasWhole()) feed(pop(below, null), b, out);
        }

        boolean hasWhole() {
            for (String t : texts) if (t.length() == pos) return true;
            return false;
        }
    }

    /** An array between '[' and ']': how many items it has, and whether it waits for an item, a comma or the end. */
    record ArrayFrame(ArrayShape shape, int count, int phase, int ws) implements Frame {
        static final int OPEN = 0, COMMA = 1, IN_ITEM = 2, AFTER_ITEM = 3;

        public void step(int b, Stack below, List<Stack> out) {
            if (whitespace(b)) {
                if (space(ws, b) > 0) out.add(new Stack(new ArrayFrame(shape, count, phase, space(ws, b)), below));
                return;
            }
            switch (phase) {
                case OPEN, COMMA -> {
                    if (b == ']' && phase == OPEN && shape.minItems() == 0) {
                        out.add(pop(below, null));
                    } else if (shape.maxItems() < 0 || count < shape.maxItems()) {
                        Stack holder = new Stack(new ArrayFrame(shape, count + 1, IN_ITEM, 0), below);
                        ValueStart.begin(shape.items(), b, holder, out);
                    }
                }
                case AFTER_ITEM -> {
                    if (b == ',' && (shape.maxItems() < 0 || count < shape.maxItems())) out.add(new Stack(new ArrayFrame(shape, count, COMMA, 0), below));
                    else if (b == ']' && count >= shape.minItems()) out.add(pop(below, null));
                }
                default -> throw new IllegalStateException("an array waiting on an item read a byte");
            }
        }

        public Frame resumed(String key) {
            return new ArrayFrame(shape, count, AFTER_ITEM, 0);
        }
    }
}
