package dev.lacuna.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.InvalidOptionException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyBenchmarkTest {

    /** Records the order of calls so that the round-robin schedule itself can be checked. */
    static final class Recorder implements LatencyBenchmark.Stepper {
        final String name;
        final List<String> log;
        int steps;

        Recorder(String name, List<String> log) {
            this.name = name;
            this.log = log;
        }

        @Override
        public void reset() {
            log.add(name);
        }

        @Override
        public void step(int token) {
            steps++;
        }
    }

    @Test
    void contendersTakeTurnsWithARotatingStartAndSeeEveryToken() {
        List<String> log = new ArrayList<>();
        Recorder a = new Recorder("a", log);
        Recorder b = new Recorder("b", log);
        Recorder c = new Recorder("c", log);
        var results = LatencyBenchmark.run(List.of(new LatencyBenchmark.Contender("a", a),
                new LatencyBenchmark.Contender("b", b), new LatencyBenchmark.Contender("c", c)),
                new int[] {1, 2, 3, 4}, 1, 3);
        assertEquals(List.of("a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c"), log);
        assertEquals(16, a.steps);
        assertEquals(List.of("a", "b", "c"), results.stream().map(LatencyBenchmark.Result::name).toList());
        for (var r : results) {
            assertEquals(3, r.roundMsPerToken().length);
            assertTrue(r.medianMsPerToken() >= 0);
        }
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, LatencyBenchmark.median(new double[] {3, 1, 2}));
        assertEquals(2.5, LatencyBenchmark.median(new double[] {4, 1, 3, 2}));
    }

    @Test
    void refusesEmptyTokensAndNoRecordedRounds() {
        assertThrows(InvalidOptionException.class, () -> LatencyBenchmark.run(List.of(), new int[0], 0, 1));
        assertThrows(InvalidOptionException.class, () -> LatencyBenchmark.run(List.of(), new int[1], 0, 0));
    }
}
