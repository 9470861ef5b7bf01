package dev.lacuna.io.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HalfTest {
    @Test
    void everyHalfSurvivesTheRoundTrip() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Half.toFloat((short) h);
            boolean nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
            if (nan) {
                assertTrue(Float.isNaN(f));
                // Quiet NaNs keep their payload; signalling ones are quietened.
                assertEquals(h | 0x200, Half.fromFloat(f) & 0xFFFF, Integer.toHexString(h));
            } else {
                assertEquals(h, Half.fromFloat(f) & 0xFFFF, Integer.toHexString(h));
            }
        }
    }

    @Test
    void midpointsRoundToEvenAndNeighboursToTheNearest() {
        // Every pair of adjacent finite non-negative halves, including subnormals and the top of the range.
        for (int h = 0; h < 0x7BFF; h++) {
            float low = Half.toFloat((short) h);
            float high = Half.toFloat((short) (h + 1));
            float mid = (low + high) / 2; // exact: halves have 11 significant bits, floats 24
            int even = (h & 1) == 0 ? h : h + 1;
            assertEquals(even, Half.fromFloat(mid), "midpoint above " + Integer.toHexString(h));
            assertEquals(h, Half.fromFloat(Math.nextDown(mid)));
            assertEquals(h + 1, Half.fromFloat(Math.nextUp(mid)));
            assertEquals(even | 0x8000, Half.fromFloat(-mid) & 0xFFFF, "negative midpoint");
        }
    }

    @Test
    void overflowUnderflowAndSpecials() {
        assertEquals(0x7BFF, Half.fromFloat(65504f));
        assertEquals(0x7BFF, Half.fromFloat(65519.99f));
        assertEquals(0x7C00, Half.fromFloat(65520f));
        assertEquals(0x7C00, Half.fromFloat(Float.MAX_VALUE));
        assertEquals(0xFC00, Half.fromFloat(Float.NEGATIVE_INFINITY) & 0xFFFF);
        assertEquals(0x0000, Half.fromFloat(0x1p-25f));
        assertEquals(0x0001, Half.fromFloat(Math.nextUp(0x1p-25f)));
        assertEquals(0x8000, Half.fromFloat(-Float.MIN_VALUE) & 0xFFFF);
        assertEquals(0x8000, Half.fromFloat(-0f) & 0xFFFF);
        assertTrue(Float.isNaN(Half.toFloat(Half.fromFloat(Float.NaN))));
    }
}
