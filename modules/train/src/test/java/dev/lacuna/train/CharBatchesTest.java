package dev.lacuna.train;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CharBatchesTest {
    /** ids equal to their position, so every batch entry tells where it was read from. */
    private static int[] positions(int n) {
        return IntStream.range(0, n).toArray();
    }

    @Test
    void streamsAreContiguousAcrossStepsAndTargetsAreTheNextCharacter() {
        // 100 ids -> 99 predictions; 3 streams x 5 steps: 6 steps of 15 per epoch, slack 9.
        CharBatches batches = new CharBatches(positions(100), 3, 5, false, 7);
        assertEquals(6, batches.stepsPerEpoch());
        CharBatches.Batch first = batches.next();
        assertTrue(first.startsEpoch());
        int offset = first.inputs()[0][0];
        assertTrue(offset >= 0 && offset <= 9, "offset " + offset);
        for (int step = 0; step < 6; step++) {
            CharBatches.Batch b = step == 0 ? first : batches.next();
            assertEquals(step == 0, b.startsEpoch());
            for (int s = 0; s < 3; s++) {
                for (int t = 0; t < 5; t++) {
                    int expected = offset + s * 30 + step * 5 + t;
                    assertEquals(expected, b.inputs()[s][t]);
                    assertEquals(expected + 1, b.targets()[s][t]);
                }
            }
        }
        CharBatches.Batch wrapped = batches.next();
        assertTrue(wrapped.startsEpoch());
        assertEquals(1, wrapped.epoch());
    }

    @Test
    void clozeTargetsAreTheInputsAndUseEveryCharacter() {
        CharBatches batches = new CharBatches(positions(12), 2, 3, true, 0);
        assertEquals(2, batches.stepsPerEpoch()); // 12 positions, 6 per step, no slack
        CharBatches.Batch b = batches.next();
        assertArrayEquals(b.inputs()[0], b.targets()[0]);
        assertArrayEquals(new int[] {0, 1, 2}, b.inputs()[0]);
        assertArrayEquals(new int[] {6, 7, 8}, b.inputs()[1]);
    }

    @Test
    void theSeedChoosesTheOffsetDeterministically() {
        Set<Integer> offsets = new HashSet<>();
        for (long seed = 0; seed < 20; seed++) {
            int a = new CharBatches(positions(1000), 4, 7, false, seed).next().inputs()[0][0];
            int b = new CharBatches(positions(1000), 4, 7, false, seed).next().inputs()[0][0];
            assertEquals(a, b);
            offsets.add(a);
        }
        assertTrue(offsets.size() > 1, "different seeds should give different offsets");
    }

    @Test
    void eachEpochDrawsAFreshOffsetWithinTheSlack() {
        CharBatches batches = new CharBatches(positions(1000), 4, 7, false, 3);
        int steps = batches.stepsPerEpoch();
        int slack = 999 - 4 * 7 * steps;
        Set<Integer> seen = new HashSet<>();
        for (int epoch = 0; epoch < 10; epoch++) {
            CharBatches.Batch b = batches.next();
            assertTrue(b.startsEpoch());
            int offset = b.inputs()[0][0];
            assertTrue(offset >= 0 && offset <= slack);
            seen.add(offset);
            for (int s = 1; s < steps; s++) {
                assertFalse(batches.next().startsEpoch());
            }
        }
        assertTrue(seen.size() > 1);
    }

    @Test
    void refusesTextThatCannotFillOneBatch() {
        // 14 ids give 13 next-character predictions (one short of 2 x 7) but 14 cloze positions.
        assertThrows(IllegalArgumentException.class, () -> new CharBatches(positions(14), 2, 7, false, 0));
        assertEquals(1, new CharBatches(positions(14), 2, 7, true, 0).stepsPerEpoch());
    }
}
