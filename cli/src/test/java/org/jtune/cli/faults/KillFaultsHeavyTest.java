package org.jtune.cli.faults;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kill scenarios with many kills each (minutes): run with
 * {@code ./mvnw -B verify -pl cli -am -Djtune.excludedTags=none -Dtest='KillFaultsHeavyTest' -Dsurefire.failIfNoSpecifiedTests=false}
 * (add -Djtune.faults.seed=N for another schedule, -Djtune.faults.kills=N to change the count).
 */
@Tag("heavy")
class KillFaultsHeavyTest {
    @Test
    void training(@TempDir Path tmp) throws Exception {
        KillScenarios.training(tmp, 12);
    }

    @Test
    void remerge(@TempDir Path tmp) throws Exception {
        KillScenarios.remerge(tmp, 20);
    }

    @Test
    void evalFolder(@TempDir Path tmp) throws Exception {
        KillScenarios.evalFolder(tmp, 12);
    }
}
