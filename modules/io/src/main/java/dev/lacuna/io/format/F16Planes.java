package dev.lacuna.io.format;

import dev.lacuna.core.Float16;

/**
 * The values of {@link F16Values}, bit for bit, split into two byte planes (format.md §6.2, format 1.1). The high
 * byte of a binary16 value holds its sign, its five exponent bits and the top two significand bits; for trained
 * weights it takes few values (a weight's magnitude spans a few binades), so its plane is a symbol stream that
 * Huffman coding shrinks to about half. The low byte is close to uniform (about 7.97 bits of entropy per byte on
 * the demo model), where a Huffman table never paid for itself, so that plane is stored raw.
 */
final class F16Planes implements ValueCoding {
    static final int ID = 3;
    /** The high bytes form a stream of 8-bit symbols (alphabet 256). */
    static final int HIGH_BYTE_WIDTH = 8;
    static final F16Planes INSTANCE = new F16Planes();

    /** Smallest high-byte stream: the coding byte and the u32 stream length (§6.3). */
    private static final int MIN_STREAM_BYTES = 5;

    private F16Planes() {
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    public String label() {
        return "f16planes";
    }

    @Override
    public int minorVersion() {
        return 1;
    }

    @Override
    public Encoded encode(float[] values, int[] positions, int elementCount) {
        int[] high = new int[values.length];
        byte[] low = new byte[values.length];
        float[] decoded = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            short h = Float16.fromFloat(values[i]);
            high[i] = (h >>> 8) & 0xFF;
            low[i] = (byte) h;
            decoded[i] = Float16.toFloat(h);
        }
        // Huffman is used for the high bytes only when smaller with its table. When it is not, plain f16 is 5 bytes
        // smaller (no coding byte, no stream length) and the writer keeps that: a raw high-byte stream is legal but
        // never chosen.
        SymbolStream.Encoded stream = SymbolStream.encode(high, high.length, HIGH_BYTE_WIDTH, true);
        byte[] out = new byte[stream.bytes().length + low.length];
        System.arraycopy(stream.bytes(), 0, out, 0, stream.bytes().length);
        System.arraycopy(low, 0, out, stream.bytes().length, low.length);
        return new Encoded(out, decoded, stream.stats());
    }

    @Override
    public Decoded decode(Cursor in, int[] positions, int storedCount, int elementCount) {
        // The stored count comes from the position block (for a dense tensor, from the directory's shape): refuse
        // it before the high-byte stream allocates a symbol per value.
        if ((long) storedCount + MIN_STREAM_BYTES > in.remaining()) {
            throw in.fail("truncated: f16 planes of " + storedCount + " values need at least "
                    + ((long) storedCount + MIN_STREAM_BYTES) + " bytes, " + in.remaining() + " remain");
        }
        SymbolStream.Decoded high = SymbolStream.decode(in, storedCount, HIGH_BYTE_WIDTH, "high byte");
        byte[] low = in.bytes(storedCount, storedCount + " low bytes");
        int[] highBytes = high.symbols();
        float[] values = new float[storedCount];
        for (int i = 0; i < storedCount; i++) {
            values[i] = Float16.toFloat((short) (highBytes[i] << 8 | low[i] & 0xFF));
        }
        return new Decoded(values, high.stats(), label());
    }
}
