package dev.lacuna.core.prune;

import static dev.lacuna.core.prune.GradualScheduleTest.assertOption;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.InvalidOptionException;
import org.junit.jupiter.api.Test;

class ScheduleStepsTest {

    @Test
    void longRunFollowsN17Table2() {
        // 20 epochs of 500 steps: start of epoch 2, ramp at 25%, end at 50%, every 100 steps.
        ScheduleSteps s = ScheduleSteps.defaults(10_000, 500);
        assertEquals(new ScheduleSteps(500, 2500, 5000, 100), s);
        assertEquals(4900, s.lastRefresh());
        assertEquals(44, s.refreshCount());
    }

    @Test
    void shortRunStartsAtFivePercentAndStillRefreshesAboutTenTimes() {
        // 2 epochs: the second epoch would start half-way through, past the end of pruning.
        ScheduleSteps s = ScheduleSteps.defaults(1000, 500);
        assertEquals(new ScheduleSteps(50, 250, 500, 45), s);
        assertEquals(10, s.refreshCount());
    }

    @Test
    void secondEpochAtExactlyTenPercentIsKept() {
        assertEquals(100, ScheduleSteps.defaults(1000, 100).start());
        assertEquals(50, ScheduleSteps.defaults(1000, 101).start());
    }

    @Test
    void tinyRunRefreshesEveryStep() {
        ScheduleSteps s = ScheduleSteps.defaults(20, 20);
        assertEquals(new ScheduleSteps(1, 5, 10, 1), s);
        assertEquals(8, s.refreshCount());
    }

    @Test
    void overridesWinAndTheDefaultFreqFollowsThem() {
        ScheduleSteps t = ScheduleSteps.resolve(10_000, 500, 0L, 100L, 300L, null);
        assertEquals(new ScheduleSteps(0, 100, 300, 30), t);
        assertEquals(7L, ScheduleSteps.resolve(10_000, 500, null, null, null, 7L).freq());
        assertEquals(10_000, ScheduleSteps.resolve(10_000, 500, null, null, 10_000L, null).end());
    }

    @Test
    void endPastTheRunIsRejected() {
        InvalidOptionException e = assertThrows(InvalidOptionException.class,
                () -> ScheduleSteps.resolve(1000, 100, null, null, 1001L, null));
        assertEquals("--end", e.option());
        assertTrue(e.getMessage().contains("past the run of 1000 steps"), e.getMessage());
    }

    @Test
    void inconsistentStepsNameTheirOption() {
        assertOption("--ramp", () -> ScheduleSteps.resolve(10_000, 500, 3000L, null, null, null));
        assertOption("--end", () -> ScheduleSteps.resolve(10_000, 500, null, null, 2000L, null));
        // An overridden end before the default ramp (2500) is checked after the overrides are applied.
        assertOption("--end", () -> ScheduleSteps.resolve(10_000, 500, 0L, null, 300L, null));
        assertOption("--start", () -> ScheduleSteps.resolve(10_000, 500, -5L, null, null, null));
        assertOption("--freq", () -> ScheduleSteps.resolve(10_000, 500, null, null, null, 0L));
        assertOption("--freq", () -> ScheduleSteps.resolve(10_000, 500, null, null, null, 6000L));
    }

    @Test
    void emptyRunIsAProgrammingError() {
        assertThrows(IllegalArgumentException.class, () -> ScheduleSteps.defaults(0, 1));
        assertThrows(IllegalArgumentException.class, () -> ScheduleSteps.defaults(10, 0));
    }
}
