package org.jtune.eval.generation;

import java.util.regex.Pattern;

/**
 * sacreBLEU's default "13a" tokenizer, equivalent to mteval-v13a.pl used by WMT: drop "&lt;skipped&gt;",
 * join "-\n" line breaks, turn newlines into spaces, unescape &amp;quot; &amp;amp; &amp;lt; &amp;gt;, then
 * pad every ASCII symbol in {@code { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /} with
 * spaces, split '.' and ',' off unless they sit between digits, split '-' after a digit, and collapse
 * whitespace (Python's {@code ' '.join(s.split())}).
 */
public final class Tokenizer13a {
    private static final Pattern SYMBOLS = Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])");
    private static final Pattern PERIOD_COMMA_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([\\.,])");
    private static final Pattern PERIOD_COMMA_BEFORE_NON_DIGIT = Pattern.compile("([\\.,])([^0-9])");
    private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

    public String tokenize(String line) {
        String s = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
        if (s.indexOf('&') >= 0) {
            s = s.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        }
        s = " " + s + " ";
        s = SYMBOLS.matcher(s).replaceAll(" $1 ");
        s = PERIOD_COMMA_AFTER_NON_DIGIT.matcher(s).replaceAll("$1 $2 ");
        s = PERIOD_COMMA_BEFORE_NON_DIGIT.matcher(s).replaceAll(" $1 $2");
        s = DASH_AFTER_DIGIT.matcher(s).replaceAll("$1 $2 ");
        return String.join(" ", PythonWhitespace.split(s));
    }
}
