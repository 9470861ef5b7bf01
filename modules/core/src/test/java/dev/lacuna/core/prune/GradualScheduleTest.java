package dev.lacuna.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.InvalidOptionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class GradualScheduleTest {
    private static final double EXACT = 1e-12;

    /** algorithms.md §1(b) test vector. */
    private final GradualSchedule vector = GradualSchedule.fromQ(0.1, 1000, 3000, 5000, 100, 1.5);

    @Test
    void eq1SlopesOfTheTestVector() {
        assertEquals(0.002, vector.startSlope(), EXACT);
        assertEquals(0.003, vector.rampSlope(), EXACT);
    }

    @Test
    void thresholdsOfTheTestVector() {
        assertEquals(0.00202, vector.threshold(1100), EXACT);
        assertEquals(0.02002, vector.threshold(2000), EXACT);
        assertEquals(0.03802, vector.threshold(2900), EXACT);
        assertEquals(0.04005, vector.threshold(3000), EXACT);
        assertEquals(0.07005, vector.threshold(4000), EXACT);
        assertEquals(0.09705, vector.threshold(4900), EXACT);
    }

    @Test
    void refreshStepsAreStrictlyInsideStartAndEnd() {
        assertFalse(vector.refreshesAt(1000));
        assertTrue(vector.refreshesAt(1100));
        assertFalse(vector.refreshesAt(1150));
        assertTrue(vector.refreshesAt(4900));
        assertFalse(vector.refreshesAt(5000));
        assertFalse(vector.refreshesAt(0));
        assertEquals(4900, vector.lastRefresh());
        assertEquals(39, vector.steps().refreshCount()); // 1100, 1200, ..., 4900
    }

    @Test
    void zeroBeforeStartAndFrozenFromEndOn() {
        assertEquals(0, vector.threshold(0));
        assertEquals(0, vector.threshold(999));
        // At S itself the paper's +1 already gives θ/f, but no refresh happens there.
        assertEquals(0.00002, vector.threshold(1000), EXACT);
        assertEquals(0.10002, vector.threshold(4999), EXACT);
        assertEquals(vector.threshold(4900), vector.threshold(5000));
        assertEquals(vector.threshold(4900), vector.threshold(1_000_000));
        assertEquals(vector.threshold(4900), vector.finalThreshold());
    }

    @Test
    void thresholdIsMonotoneBeforeTheEndAndAcrossRefreshes() {
        double previous = 0;
        for (long t = 0; t < vector.end(); t += 7) {
            double eps = vector.threshold(t);
            assertTrue(eps >= previous, "ε falls at step " + t);
            previous = eps;
        }
        previous = 0;
        for (long t = 0; t < 6000; t++) {
            if (!vector.refreshesAt(t)) {
                continue;
            }
            double eps = vector.threshold(t);
            assertTrue(eps >= previous, "ε falls at step " + t);
            previous = eps;
        }
    }

    @Test
    void eq1ReachesAboutQJustBeforeTheEnd() {
        long[][] cases = {{1000, 3000, 5000, 100}, {0, 1, 2, 1}, {500, 2500, 5000, 100}, {37, 400, 1234, 17}};
        double q = 0.37;
        for (long[] c : cases) {
            GradualSchedule s = GradualSchedule.fromQ(q, c[0], c[1], c[2], c[3], 1.5);
            // ε(E−1) = θ[(R−S) + 1.5(E−R)]/f + θ/f = q·(1 + 1/D) with D = (R−S) + 1.5(E−R): the paper's "≈ q".
            double d = (c[1] - c[0]) + 1.5 * (c[2] - c[1]);
            assertEquals(q * (1 + 1 / d), s.threshold(c[2] - 1), 1e-12, () -> java.util.Arrays.toString(c));
            assertEquals(2 * q * c[3] / (2 * (c[1] - c[0]) + 3 * (c[2] - c[1])), s.startSlope(), 1e-15);
        }
        assertEquals(q, GradualSchedule.fromQ(q, 10_000, 50_000, 100_000, 100, 1.5).threshold(99_999), q * 1e-4);
    }

    @Test
    void freqOnlySetsHowOftenNotHowFast() {
        GradualSchedule every10 = GradualSchedule.fromQ(0.1, 1000, 3000, 5000, 10, 1.5);
        for (long t : new long[] {1000, 1500, 2999, 3000, 4321}) {
            assertEquals(vector.threshold(t), every10.threshold(t), EXACT);
        }
    }

    @Test
    void rampRatioGeneralisesEq1() {
        GradualSchedule s = GradualSchedule.fromQ(0.1, 1000, 3000, 5000, 100, 2.0);
        assertEquals(0.1 * 100 / (2000 + 2.0 * 2000), s.startSlope(), EXACT);
        assertEquals(2 * s.startSlope(), s.rampSlope(), EXACT);
        assertEquals(0.1, s.threshold(4999), 0.1 * 1e-3);
    }

    @Test
    void everyValidationErrorNamesItsOption() {
        assertOption("--start", () -> new GradualSchedule(-1, 10, 20, 1, 0.1, 0.1));
        assertOption("--ramp", () -> new GradualSchedule(10, 10, 20, 1, 0.1, 0.1));
        assertOption("--end", () -> new GradualSchedule(0, 10, 5, 1, 0.1, 0.1));
        assertOption("--freq", () -> new GradualSchedule(0, 10, 20, 0, 0.1, 0.1));
        assertOption("--freq", () -> new GradualSchedule(1000, 1010, 1050, 100, 0.1, 0.1));
        assertOption("--q", () -> new GradualSchedule(0, 10, 20, 1, -0.1, 0.1));
        assertOption("--q", () -> new GradualSchedule(0, 10, 20, 1, Double.NaN, 0.1));
        assertOption("--ramp-ratio", () -> new GradualSchedule(0, 10, 20, 1, 0.1, Double.POSITIVE_INFINITY));
        assertOption("--q", () -> GradualSchedule.fromQ(-1, 0, 10, 20, 1, 1.5));
        assertOption("--q", () -> GradualSchedule.fromQ(Double.POSITIVE_INFINITY, 0, 10, 20, 1, 1.5));
        assertOption("--ramp-ratio", () -> GradualSchedule.fromQ(0.1, 0, 10, 20, 1, -1));
        assertOption("--ramp-ratio", () -> GradualSchedule.fromQ(0.1, 0, 10, 20, 1, Double.NaN));
    }

    static void assertOption(String option, Executable action) {
        InvalidOptionException e = assertThrows(InvalidOptionException.class, action);
        assertEquals(option, e.option(), e.getMessage());
        assertTrue(e.getMessage().startsWith(option + ": "), e.getMessage());
        assertEquals(2, e.exitCode());
    }
}
