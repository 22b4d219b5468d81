package org.jtune.train.recipe;

import org.jtune.JtuneException;

/** A recipe that cannot be used: the message names the file, the line when known, and the key. */
public final class RecipeException extends JtuneException {
    public RecipeException(String message) {
        super(message);
    }

    public RecipeException(String message, Throwable cause) {
        super(message, cause);
    }
}
