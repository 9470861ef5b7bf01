package dev.lacuna.io.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HuffmanTest {
    @Test
    void codesAreCanonicalAsInRfc1951() {
        // RFC 1951 §3.2.2's example: lengths (3,3,3,3,3,2,4,4) for A..H.
        Huffman code = Huffman.fromLengths(new int[] {3, 3, 3, 3, 3, 2, 4, 4});
        String[] expected = {"010", "011", "100", "101", "110", "00", "1110", "1111"};
        for (int s = 0; s < expected.length; s++) {
            BitWriter out = new BitWriter(1);
            code.write(out, s);
            assertEquals(expected[s], bitString(out), "symbol " + s);
        }
    }

    @Test
    void lengthsAreOptimalWhenTheLimitDoesNotBind() {
        SplittableRandom random = new SplittableRandom(5);
        for (int trial = 0; trial < 50; trial++) {
            long[] frequencies = new long[2 + random.nextInt(60)];
            for (int s = 0; s < frequencies.length; s++) {
                frequencies[s] = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(1000);
            }
            frequencies[0] = Math.max(frequencies[0], 1);
            frequencies[1] = Math.max(frequencies[1], 1);
            Huffman code = Huffman.forFrequencies(frequencies);
            assertEquals(classicHuffmanCost(frequencies), code.encodedBits(frequencies), "trial " + trial);
            assertNull(Huffman.problemWith(code.lengths()));
        }
    }

    @Test
    void theLengthLimitIsRespectedOnFibonacciFrequencies() {
        // Fibonacci counts make an unlimited Huffman tree as deep as the alphabet is large.
        long[] frequencies = new long[40];
        frequencies[0] = 1;
        frequencies[1] = 1;
        for (int s = 2; s < frequencies.length; s++) {
            frequencies[s] = frequencies[s - 1] + frequencies[s - 2];
        }
        int[] lengths = Huffman.forFrequencies(frequencies).lengths();
        int longest = java.util.Arrays.stream(lengths).max().orElseThrow();
        assertEquals(Huffman.MAX_LENGTH, longest);
        assertNull(Huffman.problemWith(lengths), "a complete prefix code");
        // The limit costs little: package-merge stays within 1% of the unlimited optimum here.
        long cost = Huffman.forFrequencies(frequencies).encodedBits(frequencies);
        assertTrue(cost < classicHuffmanCost(frequencies) * 1.01, "limited cost " + cost);
    }

    @Test
    void invalidTablesAreRejected() {
        assertNotNull(Huffman.problemWith(new int[] {1, 1, 1}), "Kraft sum above 1");
        assertNotNull(Huffman.problemWith(new int[] {1, 2}), "incomplete");
        assertNotNull(Huffman.problemWith(new int[] {0, 2}), "single symbol must use length 1");
        assertNotNull(Huffman.problemWith(new int[] {16, 1}), "too long");
        assertNull(Huffman.problemWith(new int[] {0, 1}));
        assertNull(Huffman.problemWith(new int[] {}));
        assertNull(Huffman.fromLengths(new int[] {1, 1, 1}));
    }

    @Test
    void aStoredInvalidTableIsABadFileNamingTheOffset() {
        // coding 1, table of 3 lengths (1,1,1): not a prefix code.
        ByteBuffer block = ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        block.put((byte) 1).putInt(3).put((byte) 0x11).put((byte) 0x01).putInt(0);
        Cursor in = new Cursor(Path.of("x.lacuna"), "tensor t", block.flip(), 100);
        BadFileException e = assertThrows(BadFileException.class, () -> SymbolStream.decode(in, 0, 2, "code"));
        assertTrue(e.getMessage().contains("x.lacuna: tensor t at byte 101: code table is not a valid prefix code"),
                e.getMessage());
    }

    @Test
    void streamsRoundTripAndSkewedOnesComeWithinTwoPercentOfTheirEntropy() {
        SplittableRandom random = new SplittableRandom(9);
        int count = 200_000;
        int[] symbols = new int[count];
        for (int i = 0; i < count; i++) {
            // A geometric distribution over 64 symbols, like the gaps at 80% sparsity.
            int s = 0;
            while (s < 63 && random.nextDouble() < 0.8) {
                s++;
            }
            symbols[i] = s;
        }
        SymbolStream.Encoded encoded = SymbolStream.encode(symbols, count, 6, true);
        assertEquals("huffman", encoded.stats().coding());
        double efficiency = encoded.stats().efficiency();
        assertTrue(efficiency >= 0.98 && efficiency <= 1.0, "efficiency " + efficiency);
        SymbolStream.Decoded decoded = SymbolStream.decode(
                new Cursor(Path.of("x"), "s", ByteBuffer.wrap(encoded.bytes()), 0), count, 6, "index");
        assertArrayEquals(symbols, decoded.symbols());
        assertEquals(encoded.stats(), decoded.stats());
    }

    @Test
    void uniformStreamsStayRaw() {
        int[] symbols = new int[4096];
        for (int i = 0; i < symbols.length; i++) {
            symbols[i] = i % 32;
        }
        SymbolStream.Encoded encoded = SymbolStream.encode(symbols, symbols.length, 5, true);
        assertEquals("raw", encoded.stats().coding(), "a table cannot pay for itself on a uniform stream");
        assertEquals(1.0, encoded.stats().efficiency(), 1e-12);
    }

    private static long classicHuffmanCost(long[] frequencies) {
        PriorityQueue<Long> queue = new PriorityQueue<>();
        for (long f : frequencies) {
            if (f > 0) {
                queue.add(f);
            }
        }
        long cost = 0;
        while (queue.size() > 1) {
            long merged = queue.poll() + queue.poll();
            cost += merged;
            queue.add(merged);
        }
        return cost;
    }

    private static String bitString(BitWriter out) {
        byte[] bytes = out.toByteArray();
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < out.bitCount(); i++) {
            s.append((bytes[i / 8] >>> (7 - i % 8)) & 1);
        }
        return s.toString();
    }
}
