package dev.lacuna.core.prune;

import static dev.lacuna.core.prune.GradualScheduleTest.assertOption;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AgpScheduleTest {

    /** algorithms.md §5(b) vector (i): the paper's form, s_i = 0, s_f = 0.9, n = 10. */
    @Test
    void paperFormMatchesTheReferenceVector() {
        double[] expected = {0, .2439, .4392, .5913, .7056, .7875, .8424, .8757, .8928, .8991, .9000};
        AgpSchedule schedule = new AgpSchedule(0, 0.9, 0, 1, 10);
        for (int t = 0; t <= 10; t++) {
            assertEquals(expected[t], schedule.sparsity(t), 5e-5, "t = " + t);
            assertTrue(schedule.prunesAt(t));
        }
        assertFalse(schedule.prunesAt(11), "frozen after t0 + nΔt");
        assertEquals(0.9, schedule.sparsity(1000), 0);
    }

    /** Vector (ii): Distiller's AgpPruningRate with s_i = .05, s_f = .90, start 1, end 25, freq 3 (span 21). */
    @Test
    void distillerRangeMatchesTheReferenceVector() {
        AgpSchedule schedule = AgpSchedule.fromRange(0.05, 0.90, 1, 25, 3);
        List<Long> steps = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        for (long t = 0; t < 40; t++) {
            if (schedule.prunesAt(t)) {
                steps.add(t);
                values.add(schedule.sparsity(t));
            }
        }
        assertEquals(List.of(1L, 4L, 7L, 10L, 13L, 16L, 19L, 22L), steps);
        double[] expected = {.05, .3647, .5902, .7414, .8331, .8802, .8975, .9000};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], values.get(i), 5e-5, "pruning step " + steps.get(i));
        }
    }

    @Test
    void sparsityInForceHoldsBetweenPruningSteps() {
        AgpSchedule schedule = AgpSchedule.fromRange(0, 0.8, 10, 50, 10);
        assertEquals(0, schedule.sparsityInForce(9), 0);
        assertEquals(schedule.sparsity(20), schedule.sparsityInForce(29), 0);
        assertEquals(0.8, schedule.sparsityInForce(45), 0);
    }

    @Test
    void invalidSettingsNameTheirOption() {
        assertOption("--target-sparsity", () -> new AgpSchedule(0, 1.0, 0, 1, 10));
        assertOption("--target-sparsity", () -> new AgpSchedule(0, 0, 0, 1, 10));
        assertOption("--initial-sparsity", () -> new AgpSchedule(0.6, 0.5, 0, 1, 10));
        assertOption("--freq", () -> AgpSchedule.fromRange(0, 0.5, 0, 10, 0));
        assertOption("--end", () -> AgpSchedule.fromRange(0, 0.5, 5, 6, 3));
    }
}
