package org.jtune.train.data;

/**
 * One physical line of a JSONL file as read by {@link JsonlLineReader}, before any JSON parsing.
 *
 * @param number            1-based line number
 * @param text              the decoded text without the line terminator (LF or CRLF) and without a
 *                          leading byte-order mark; null when the line was too long or not UTF-8
 * @param byteLength        the length of the line in bytes, without terminator (counted in full
 *                          even when the line was too long to keep)
 * @param bomStripped       the line started with a UTF-8 byte-order mark, which was removed
 * @param tooLong           the line was longer than the reader's limit; its bytes were discarded
 * @param invalidUtf8Offset byte offset of the first byte that is not UTF-8, or -1
 */
public record JsonlLine(long number, String text, long byteLength, boolean bomStripped, boolean tooLong,
                        long invalidUtf8Offset) {

    public boolean readable() {
        return text != null;
    }

    public boolean blank() {
        return text != null && text.isBlank();
    }
}
