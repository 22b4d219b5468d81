package org.jtune.quant.gguf;

import org.jtune.JtuneException;

/**
 * A GGUF file that cannot be read or written as asked: the message names the file, what is wrong,
 * which key or tensor, and the byte offset where the reader found it.
 */
public class GgufException extends JtuneException {
    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
