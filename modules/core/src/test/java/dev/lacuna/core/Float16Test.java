package dev.lacuna.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Float16Test {
    @Test
    void everyHalfSurvivesTheRoundTrip() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Float16.toFloat((short) h);
            boolean nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
            if (nan) {
                assertTrue(Float.isNaN(f));
                // Quiet NaNs keep their payload; signalling ones are quietened.
                assertEquals(h | 0x200, Float16.fromFloat(f) & 0xFFFF, Integer.toHexString(h));
            } else {
                assertEquals(h, Float16.fromFloat(f) & 0xFFFF, Integer.toHexString(h));
            }
        }
    }

    @Test
    void midpointsRoundToEvenAndNeighboursToTheNearest() {
        // Every pair of adjacent finite non-negative halves, including subnormals and the top of the range.
        for (int h = 0; h < 0x7BFF; h++) {
            float low = Float16.toFloat((short) h);
            float high = Float16.toFloat((short) (h + 1));
            float mid = (low + high) / 2; // exact: halves have 11 significant bits, floats 24
            int even = (h & 1) == 0 ? h : h + 1;
            assertEquals(even, Float16.fromFloat(mid), "midpoint above " + Integer.toHexString(h));
            assertEquals(h, Float16.fromFloat(Math.nextDown(mid)));
            assertEquals(h + 1, Float16.fromFloat(Math.nextUp(mid)));
            assertEquals(even | 0x8000, Float16.fromFloat(-mid) & 0xFFFF, "negative midpoint");
        }
    }

    @Test
    void overflowUnderflowAndSpecials() {
        assertEquals(0x7BFF, Float16.fromFloat(65504f));
        assertEquals(0x7BFF, Float16.fromFloat(65519.99f));
        assertEquals(0x7C00, Float16.fromFloat(65520f));
        assertEquals(0x7C00, Float16.fromFloat(Float.MAX_VALUE));
        assertEquals(0xFC00, Float16.fromFloat(Float.NEGATIVE_INFINITY) & 0xFFFF);
        assertEquals(0x0000, Float16.fromFloat(0x1p-25f));
        assertEquals(0x0001, Float16.fromFloat(Math.nextUp(0x1p-25f)));
        assertEquals(0x8000, Float16.fromFloat(-Float.MIN_VALUE) & 0xFFFF);
        assertEquals(0x8000, Float16.fromFloat(-0f) & 0xFFFF);
        assertTrue(Float.isNaN(Float16.toFloat(Float16.fromFloat(Float.NaN))));
    }
}
