package org.jtune.train.run;

import java.nio.file.Path;
import org.jtune.train.recipe.RecipeReader;

/** Runs a recipe in a separate JVM, so that {@link KillAndResumeTest} can kill it with SIGKILL. */
public final class ResumeChild {
    public static void main(String[] args) throws Exception {
        FineTune.run(RecipeReader.read(Path.of(args[0])), Path.of(args[1]), false, new FineTune.Listener() {});
    }
}
