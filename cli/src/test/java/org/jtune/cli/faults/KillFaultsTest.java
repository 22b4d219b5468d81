package org.jtune.cli.faults;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11's fault-injection suite, CI size: child JVMs killed with SIGKILL at seeded moments during
 * training (steps, checkpoint writes, the final adapter), a re-merge into an existing sharded folder
 * (issue 11 case 1) and an eval into an existing folder. {@link KillFaultsHeavyTest} runs the same
 * scenarios with many more kills.
 */
class KillFaultsTest {
    @Test
    void trainingKilledAnywhereResumesToTheSameAdapter(@TempDir Path tmp) throws Exception {
        KillScenarios.training(tmp, 3);
    }

    /** Issue 11 case 1. */
    @Test
    void aKilledRemergeLeavesTheOldModelOrTheNewOneNeverAMix(@TempDir Path tmp) throws Exception {
        KillScenarios.remerge(tmp, 4);
    }

    @Test
    void aKilledEvalLeavesTheOldResultsOrTheNewOnes(@TempDir Path tmp) throws Exception {
        KillScenarios.evalFolder(tmp, 3);
    }
}
