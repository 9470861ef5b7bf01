package dev.lacuna.io.format;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A stream of symbols of a fixed alphabet 2^width (format.md §6.1, §6.2): a coding byte (0 raw, 1 Huffman), the
 * Huffman table when coded, the stream length and the bit-packed symbols. The writer keeps whichever of the two is
 * smaller, the table included.
 */
final class SymbolStream {
    static final int RAW = 0;
    static final int HUFFMAN = 1;

    private SymbolStream() {
    }

    /** An encoded stream and its statistics. */
    record Encoded(byte[] bytes, StreamStats stats) {
    }

    /** A decoded stream and its statistics. */
    record Decoded(int[] symbols, StreamStats stats) {
    }

    static Encoded encode(int[] symbols, int count, int width, boolean allowHuffman) {
        long[] histogram = new long[1 << width];
        for (int i = 0; i < count; i++) {
            histogram[symbols[i]]++;
        }
        double entropy = StreamStats.entropy(histogram);
        long rawBits = (long) count * width;
        if (allowHuffman && count > 0) {
            Huffman code = Huffman.forFrequencies(histogram);
            byte[] table = tableBytes(code.lengths());
            long huffmanBits = code.encodedBits(histogram);
            if (table.length + (huffmanBits + 7) / 8 < (rawBits + 7) / 8) {
                BitWriter out = new BitWriter((int) ((huffmanBits + 7) / 8));
                for (int i = 0; i < count; i++) {
                    code.write(out, symbols[i]);
                }
                StreamStats stats = new StreamStats("huffman", count, width, huffmanBits, table.length, entropy);
                return new Encoded(assemble(HUFFMAN, table, out.toByteArray()), stats);
            }
        }
        BitWriter out = new BitWriter((int) ((rawBits + 7) / 8));
        for (int i = 0; i < count; i++) {
            out.write(symbols[i], width);
        }
        return new Encoded(assemble(RAW, new byte[0], out.toByteArray()),
                new StreamStats("raw", count, width, rawBits, 0, entropy));
    }

    /**
     * Reads {@code count} symbols of {@code width} bits. The count was read before this call; it is checked against
     * the stream's bytes (every code is at least one bit) before the symbol array is allocated.
     */
    static Decoded decode(Cursor in, long count, int width, String name) {
        long codingOffset = in.offset();
        int coding = in.u8(name + " coding");
        if (coding != RAW && coding != HUFFMAN) {
            throw in.failAt(codingOffset, name + " coding " + coding
                    + " is not known to this reader (format 1.0 knows 0 raw and 1 Huffman); it needs a newer reader");
        }
        Huffman code = null;
        long tableStart = in.offset();
        if (coding == HUFFMAN) {
            code = readTable(in, width, name);
        }
        int tableBytes = (int) (in.offset() - tableStart);
        long lengthOffset = in.offset();
        int length = in.byteLength(name + " stream length");
        long neededBits = coding == RAW ? count * width : count;
        if (coding == RAW ? (neededBits + 7) / 8 != length : neededBits > 8L * length) {
            throw in.failAt(lengthOffset, name + " stream of " + length + " bytes cannot hold " + count + " symbols"
                    + (coding == RAW ? " of " + width + " bits" : ""));
        }
        long streamOffset = in.offset();
        BitReader bits = new BitReader(in.bytes(length, name + " stream"));
        int[] symbols = new int[(int) count];
        long[] histogram = new long[1 << width];
        if (code == null) {
            for (int i = 0; i < count; i++) {
                symbols[i] = bits.read(width);
            }
        } else {
            Huffman.Decoder decoder = code.decoder();
            for (int i = 0; i < count; i++) {
                int symbol = decoder.read(bits);
                if (symbol < 0 || bits.overrun()) {
                    throw in.failAt(streamOffset + bits.position() / 8, name + " stream: symbol " + i
                            + (symbol < 0 ? " matches no code of the table" : " runs past the end of the stream"));
                }
                symbols[i] = symbol;
            }
        }
        if (!bits.paddingIsZero()) {
            throw in.failAt(streamOffset + length - 1, name + " stream: its length disagrees with its "
                    + count + " symbols, or its padding bits are not zero");
        }
        for (int s : symbols) {
            histogram[s]++;
        }
        long payloadBits = coding == RAW ? count * width : code.encodedBits(histogram);
        return new Decoded(symbols, new StreamStats(coding == RAW ? "raw" : "huffman", count, width, payloadBits,
                tableBytes, StreamStats.entropy(histogram)));
    }

    private static Huffman readTable(Cursor in, int width, String name) {
        long offset = in.offset();
        long stored = in.u32(name + " table size");
        if (stored > 1L << width) {
            throw in.failAt(offset, name + " table has " + stored + " code lengths, the alphabet only "
                    + (1 << width));
        }
        byte[] packed = in.bytes((int) ((stored + 1) / 2), name + " table");
        int[] lengths = new int[1 << width];
        for (int s = 0; s < stored; s++) {
            lengths[s] = (packed[s / 2] >>> (4 * (s % 2))) & 0xF;
        }
        if (stored % 2 == 1 && (packed[packed.length - 1] & 0xF0) != 0) {
            throw in.failAt(offset + 4 + packed.length - 1, name + " table: unused nibble is not zero");
        }
        if (stored > 0 && lengths[(int) stored - 1] == 0) {
            throw in.failAt(offset, name + " table: its size must end at the highest used symbol");
        }
        String problem = Huffman.problemWith(lengths);
        if (problem != null) {
            throw in.failAt(offset, name + " table is not a valid prefix code: " + problem);
        }
        return Huffman.fromLengths(lengths);
    }

    static byte[] tableBytes(int[] lengths) {
        int stored = lengths.length;
        while (stored > 0 && lengths[stored - 1] == 0) {
            stored--;
        }
        ByteBuffer out = ByteBuffer.allocate(4 + (stored + 1) / 2).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(stored);
        for (int s = 0; s < stored; s += 2) {
            int high = s + 1 < stored ? lengths[s + 1] : 0;
            out.put((byte) (lengths[s] | high << 4));
        }
        return out.array();
    }

    private static byte[] assemble(int coding, byte[] table, byte[] stream) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 + table.length + 4 + stream.length);
        out.write(coding);
        out.writeBytes(table);
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(stream.length).array());
        out.writeBytes(stream);
        return out.toByteArray();
    }
}
