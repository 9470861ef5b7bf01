package dev.lacuna.io.format;

import java.util.Arrays;

/**
 * Canonical, length-limited Huffman codes (format.md §7): optimal code lengths under a 15-bit limit by
 * package-merge, canonical code assignment as in RFC 1951 §3.2.2, and a single-table decoder.
 */
final class Huffman {
    /** Longest code; 4 bits per length in the stored table, and a decoding table of at most 2^15 entries. */
    static final int MAX_LENGTH = 15;

    private final int[] lengths;
    private final int[] codes;
    private final int maxLength;

    private Huffman(int[] lengths) {
        this.lengths = lengths;
        this.codes = canonicalCodes(lengths);
        this.maxLength = Arrays.stream(lengths).max().orElse(0);
    }

    /** The optimal length-limited code for the symbol counts {@code frequencies} (index = symbol). */
    static Huffman forFrequencies(long[] frequencies) {
        return new Huffman(optimalLengths(frequencies, MAX_LENGTH));
    }

    /**
     * A code from stored lengths, after checking that they form a complete prefix code (or the one-symbol code).
     *
     * @return null when the lengths are not a valid table; the caller names the file and offset
     */
    static Huffman fromLengths(int[] lengths) {
        return problemWith(lengths) == null ? new Huffman(lengths.clone()) : null;
    }

    /** Why {@code lengths} is not a valid table (format.md §7.2), or null when it is. */
    static String problemWith(int[] lengths) {
        long kraft = 0; // in units of 2^-MAX_LENGTH
        int used = 0;
        for (int length : lengths) {
            if (length < 0 || length > MAX_LENGTH) {
                return "code length " + length + " outside 0.." + MAX_LENGTH;
            }
            if (length > 0) {
                used++;
                kraft += 1L << (MAX_LENGTH - length);
            }
        }
        if (used == 0) {
            return null;
        }
        if (used == 1) {
            return kraft == 1L << (MAX_LENGTH - 1) ? null : "a single symbol must have a code of length 1";
        }
        if (kraft > 1L << MAX_LENGTH) {
            return "code lengths are not a prefix code (Kraft sum above 1)";
        }
        if (kraft < 1L << MAX_LENGTH) {
            return "code lengths leave codes unused (Kraft sum below 1)";
        }
        return null;
    }

    int[] lengths() {
        return lengths.clone();
    }

    int length(int symbol) {
        return lengths[symbol];
    }

    /** Total bits of a stream with these symbol counts. */
    long encodedBits(long[] frequencies) {
        long bits = 0;
        for (int s = 0; s < frequencies.length; s++) {
            bits += frequencies[s] * lengths[s];
        }
        return bits;
    }

    void write(BitWriter out, int symbol) {
        out.write(codes[symbol], lengths[symbol]);
    }

    /** A decoder for streams of this code. */
    Decoder decoder() {
        return new Decoder();
    }

    /** One lookup of {@code maxLength} bits gives the symbol and its length. */
    final class Decoder {
        private final int[] table; // symbol << 4 | length, or -1 where no code matches

        private Decoder() {
            table = new int[1 << maxLength];
            Arrays.fill(table, -1);
            for (int s = 0; s < lengths.length; s++) {
                int length = lengths[s];
                if (length > 0) {
                    int first = codes[s] << (maxLength - length);
                    Arrays.fill(table, first, first + (1 << (maxLength - length)), s << 4 | length);
                }
            }
        }

        /** The next symbol, or -1 when the bits match no code (only possible with the one-symbol code). */
        int read(BitReader in) {
            int entry = table[in.peek(maxLength)];
            if (entry < 0) {
                return -1;
            }
            in.skip(entry & 0xF);
            return entry >>> 4;
        }
    }

    private static int[] canonicalCodes(int[] lengths) {
        int[] countPerLength = new int[MAX_LENGTH + 1];
        for (int length : lengths) {
            if (length > 0) {
                countPerLength[length]++;
            }
        }
        int[] next = new int[MAX_LENGTH + 2];
        int code = 0;
        for (int length = 1; length <= MAX_LENGTH; length++) {
            code = (code + countPerLength[length - 1]) << 1;
            next[length] = code;
        }
        int[] codes = new int[lengths.length];
        for (int s = 0; s < lengths.length; s++) {
            if (lengths[s] > 0) {
                codes[s] = next[lengths[s]]++;
            }
        }
        return codes;
    }

    /**
     * Package-merge (Larmore and Hirschberg 1990): the lengths minimising Σ f·len subject to len ≤ limit. Level
     * {@code limit} holds the leaves; each shallower level merges the leaves with pairs ("packages") of the level
     * below; the first 2(n−1) items of level 1 are selected, and a symbol's length is the number of levels at which
     * it is selected, directly or inside a selected package.
     */
    static int[] optimalLengths(long[] frequencies, int limit) {
        int[] lengths = new int[frequencies.length];
        int n = 0;
        for (long f : frequencies) {
            if (f > 0) {
                n++;
            }
        }
        if (n == 0) {
            return lengths;
        }
        Integer[] order = new Integer[n];
        for (int s = 0, i = 0; s < frequencies.length; s++) {
            if (frequencies[s] > 0) {
                order[i++] = s;
            }
        }
        if (n == 1) {
            lengths[order[0]] = 1;
            return lengths;
        }
        if (1L << limit < n) {
            throw new IllegalArgumentException(n + " symbols need codes longer than " + limit + " bits");
        }
        Arrays.sort(order, (a, b) -> frequencies[a] != frequencies[b]
                ? Long.compare(frequencies[a], frequencies[b]) : Integer.compare(a, b));
        long[] leafWeight = new long[n];
        for (int i = 0; i < n; i++) {
            leafWeight[i] = frequencies[order[i]];
        }
        // items[level][i] >= 0: leaf (index into order); < 0: package number -1-p of pairs from the level below.
        int[][] items = new int[limit + 1][];
        long[] below = leafWeight.clone();
        int[] belowItems = new int[n];
        for (int i = 0; i < n; i++) {
            belowItems[i] = i;
        }
        items[limit] = belowItems;
        for (int level = limit - 1; level >= 1; level--) {
            int packages = below.length / 2;
            long[] merged = new long[n + packages];
            int[] mergedItems = new int[n + packages];
            int leaf = 0;
            int pack = 0;
            for (int k = 0; k < merged.length; k++) {
                long packWeight = pack < packages ? below[2 * pack] + below[2 * pack + 1] : Long.MAX_VALUE;
                if (leaf < n && leafWeight[leaf] <= packWeight) {
                    merged[k] = leafWeight[leaf];
                    mergedItems[k] = leaf++;
                } else {
                    merged[k] = packWeight;
                    mergedItems[k] = -1 - pack++;
                }
            }
            below = merged;
            items[level] = mergedItems;
        }
        int selected = 2 * (n - 1);
        for (int level = 1; level <= limit && selected > 0; level++) {
            int packagesSelected = 0;
            for (int k = 0; k < selected; k++) {
                int item = items[level][k];
                if (item >= 0) {
                    lengths[order[item]]++;
                } else {
                    packagesSelected++;
                }
            }
            // Packages are numbered in order of creation, and the selected prefix of a merged list holds packages
            // 0..p-1, i.e. the first 2p items of the level below.
            selected = 2 * packagesSelected;
        }
        return lengths;
    }
}
