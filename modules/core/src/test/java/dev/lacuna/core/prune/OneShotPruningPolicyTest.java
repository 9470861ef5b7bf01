package dev.lacuna.core.prune;

import static dev.lacuna.core.prune.AgpPruningPolicyTest.PRUNED;
import static dev.lacuna.core.prune.AgpPruningPolicyTest.model;
import static dev.lacuna.core.prune.AgpPruningPolicyTest.pruned;
import static dev.lacuna.core.prune.GradualScheduleTest.assertOption;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Model;
import org.junit.jupiter.api.Test;

class OneShotPruningPolicyTest {

    @Test
    void prunesTheSmallestMagnitudesOnceBeforeTheFirstStep() {
        Model m = model();
        OneShotPruningPolicy policy = new OneShotPruningPolicy(m, 0.75, false, false, true);
        assertTrue(policy.refreshesAt(0));
        for (long t = 1; t < 1000; t++) {
            assertFalse(policy.refreshesAt(t));
        }
        policy.pruneNow(m);
        for (String name : PRUNED) {
            float[] w = m.tensor(name).data();
            assertEquals(Math.round(0.75 * w.length), pruned(m, name), name);
            float smallestKept = Float.MAX_VALUE;
            float largestPruned = 0;
            boolean[] keep = m.mask(name);
            Model dense = model();
            float[] original = dense.tensor(name).data();
            for (int i = 0; i < w.length; i++) {
                if (keep[i]) {
                    smallestKept = Math.min(smallestKept, Math.abs(original[i]));
                } else {
                    largestPruned = Math.max(largestPruned, Math.abs(original[i]));
                    assertEquals(0f, w[i], "pruned weights are zeroed");
                }
            }
            assertTrue(largestPruned < smallestKept, name + ": magnitude order respected");
        }
        assertEquals("oneshot+finetune", policy.method());
        assertEquals("oneshot", new OneShotPruningPolicy(m, 0.5, false, false, false).method());
    }

    @Test
    void targetOutsideTheOpenIntervalIsRejected() {
        assertOption("--target-sparsity", () -> new OneShotPruningPolicy(model(), 1.0, false, false, false));
        assertOption("--target-sparsity", () -> new OneShotPruningPolicy(model(), -0.1, false, false, false));
    }

    @Test
    void methodNamesParseAndUnknownOnesNameTheOption() {
        assertEquals(PruningMethod.ONESHOT_FINETUNE, PruningMethod.parse("--methods", " OneShot+FineTune "));
        assertEquals(PruningMethod.HAN, PruningMethod.parse("--method", "han"));
        assertOption("--methods", () -> PruningMethod.parse("--methods", "lottery"));
    }
}
