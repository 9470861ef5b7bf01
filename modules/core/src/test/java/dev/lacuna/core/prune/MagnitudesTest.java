package dev.lacuna.core.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class MagnitudesTest {

    /** Expected values printed by numpy 1.24 {@code np.percentile(np.abs(a), p)} on the float32 arrays below. */
    @Test
    void percentileMatchesNumpyLinear() {
        Magnitudes m = Magnitudes.of(List.of(new float[] {-0.5f, 0.1f, 0.3f}, new float[] {-0.2f, 0.9f, 0.05f, 0.7f}));
        assertEquals(0.7799999833106995, m.percentile(90), 1e-15);
        assertEquals(0.30000001192092896, m.percentile(50), 1e-15);
        assertEquals(0.19980000297725198, m.percentile(33.3), 1e-15);
        assertEquals(0.8999999761581421, m.percentile(100), 1e-15);
        assertEquals(0.0800000011920929, m.percentile(10), 1e-15);
        assertEquals(0.5999999940395355, m.percentile(75), 1e-15);

        Magnitudes b = Magnitudes.of(List.of(new float[] {0.25f, -0.75f, 0.5f, 1.0f}));
        assertEquals(0.925, b.percentile(90), 1e-15);
        assertEquals(0.7, b.percentile(60), 1e-15);
        assertEquals(0.4375, b.percentile(25), 1e-15);
    }

    @Test
    void thresholdPruningTakesTheKthSmallestMagnitude() {
        Magnitudes m = Magnitudes.of(List.of(new float[] {-0.4f, 0.1f, 0.3f, -0.2f, 0.5f}));
        assertEquals(0.3f, m.thresholdPruning(0.6), 0);   // k = 3
        assertEquals(0.2f, m.thresholdPruning(0.3), 0);   // k = round(1.5) = 2
        assertEquals(0.0, m.thresholdPruning(0.05), 0);   // k = 0: prune nothing
        assertEquals(5, m.size());
    }
}
