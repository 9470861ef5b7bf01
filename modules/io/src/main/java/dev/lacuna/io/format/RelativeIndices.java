package dev.lacuna.io.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Deep Compression's relative indices (§4(a)2 of algorithms.md): each stored element is the gap to the previous
 * one in {@code width} bits; the top symbol is a value-less filler that skips 2^width − 1 elements (format.md
 * §6.1 explains why it carries no value). The symbol stream is raw or Huffman coded.
 */
final class RelativeIndices implements PositionLayout {
    static final int ID = 2;
    static final int MIN_WIDTH = 1;
    static final int MAX_WIDTH = 16;

    private final int width;
    private final boolean allowHuffman;

    /** @param width index width in bits, 1..16 */
    RelativeIndices(int width, boolean allowHuffman) {
        if (width < MIN_WIDTH || width > MAX_WIDTH) {
            throw new IllegalArgumentException("index width " + width + " outside " + MIN_WIDTH + ".." + MAX_WIDTH);
        }
        this.width = width;
        this.allowHuffman = allowHuffman;
    }

    /** The reader takes the width from the block itself. */
    static RelativeIndices reader() {
        return new RelativeIndices(MIN_WIDTH, true);
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    public String label() {
        return "relative";
    }

    @Override
    public Encoded encode(int[] positions, int elementCount) {
        int filler = (1 << width) - 1;
        int stored = positions == null ? elementCount : positions.length;
        int[] symbols = new int[stored + 16];
        int count = 0;
        long fillers = 0;
        int cursor = 0;
        for (int i = 0; i < stored; i++) {
            int position = positions == null ? i : positions[i];
            int gap = position - cursor;
            int needed = count + gap / filler + 1;
            if (needed > symbols.length) {
                symbols = java.util.Arrays.copyOf(symbols, Math.max(needed, symbols.length * 2));
            }
            while (gap >= filler) {
                symbols[count++] = filler;
                fillers++;
                gap -= filler;
            }
            symbols[count++] = gap;
            cursor = position + 1;
        }
        SymbolStream.Encoded stream = SymbolStream.encode(symbols, count, width, allowHuffman);
        ByteBuffer out = ByteBuffer.allocate(1 + 4 + stream.bytes().length).order(ByteOrder.LITTLE_ENDIAN);
        out.put((byte) width).putInt(count).put(stream.bytes());
        return new Encoded(out.array(), stream.stats(), fillers);
    }

    @Override
    public Decoded decode(Cursor in, int elementCount) {
        long widthOffset = in.offset();
        int w = in.u8("index width");
        if (w < MIN_WIDTH || w > MAX_WIDTH) {
            throw in.failAt(widthOffset, "index width " + w + " outside " + MIN_WIDTH + ".." + MAX_WIDTH);
        }
        long count = in.u32("index count");
        SymbolStream.Decoded stream = SymbolStream.decode(in, count, w, "index");
        int filler = (1 << w) - 1;
        int[] symbols = stream.symbols();
        long fillers = 0;
        for (int s : symbols) {
            if (s == filler) {
                fillers++;
            }
        }
        if (count > 0 && symbols[symbols.length - 1] == filler) {
            throw in.fail("the last index symbol is a filler, which stores nothing");
        }
        int[] positions = new int[(int) (count - fillers)];
        long cursor = 0;
        int k = 0;
        for (int s : symbols) {
            if (s == filler) {
                cursor += filler;
            } else {
                cursor += s;
                if (cursor >= elementCount) {
                    throw in.fail("relative indices reach element " + cursor + " of a tensor of " + elementCount);
                }
                positions[k++] = (int) cursor;
                cursor++;
            }
        }
        return new Decoded(positions, positions.length, stream.stats(), fillers);
    }
}
