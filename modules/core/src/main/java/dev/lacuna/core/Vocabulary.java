package dev.lacuna.core;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The symbols of a character model: Unicode code points, in ascending order, each mapped to its class index.
 * Stored with the model so that text is encoded the same way at training and inference time.
 */
public final class Vocabulary {
    private final int[] codePoints;
    private final Map<Integer, Integer> index;

    public Vocabulary(int[] codePoints) {
        int[] sorted = codePoints.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                throw new IllegalArgumentException("duplicate code point U+" + Integer.toHexString(sorted[i]));
            }
        }
        this.codePoints = sorted;
        this.index = new HashMap<>(sorted.length * 2);
        for (int i = 0; i < sorted.length; i++) {
            index.put(sorted[i], i);
        }
    }

    /** The distinct code points of {@code text}. */
    public static Vocabulary of(String text) {
        TreeSet<Integer> set = new TreeSet<>();
        text.codePoints().forEach(set::add);
        return new Vocabulary(set.stream().mapToInt(Integer::intValue).toArray());
    }

    public int size() {
        return codePoints.length;
    }

    public int[] codePoints() {
        return codePoints.clone();
    }

    public int codePoint(int id) {
        return codePoints[id];
    }

    /** Class index of {@code codePoint}, or -1 when it is not in the vocabulary. */
    public int indexOf(int codePoint) {
        Integer i = index.get(codePoint);
        return i == null ? -1 : i;
    }

    /** The text as a string of code points, for storage in checkpoint metadata. */
    public String asString() {
        return new String(codePoints, 0, codePoints.length);
    }

    public static Vocabulary fromString(String symbols) {
        return new Vocabulary(symbols.codePoints().toArray());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Vocabulary v && Arrays.equals(v.codePoints, codePoints);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(codePoints);
    }
}
