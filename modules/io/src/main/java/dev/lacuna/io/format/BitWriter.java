package dev.lacuna.io.format;

import java.util.Arrays;

/** Packs bits most significant first (format.md §1); the last byte is padded with zero bits. */
final class BitWriter {
    private byte[] bytes;
    private long bitCount;
    private long buffer;
    private int buffered;
    private int byteCount;

    BitWriter(int expectedBytes) {
        bytes = new byte[Math.max(16, expectedBytes)];
    }

    /** Appends the low {@code width} bits of {@code value} (width 0..32), most significant first. */
    void write(int value, int width) {
        buffer = (buffer << width) | (value & ((1L << width) - 1));
        buffered += width;
        bitCount += width;
        while (buffered >= 8) {
            buffered -= 8;
            put((byte) (buffer >>> buffered));
        }
    }

    long bitCount() {
        return bitCount;
    }

    /** The stream, padded to a whole byte with zero bits. */
    byte[] toByteArray() {
        byte[] out = Arrays.copyOf(bytes, byteCount + (buffered > 0 ? 1 : 0));
        if (buffered > 0) {
            out[byteCount] = (byte) (buffer << (8 - buffered));
        }
        return out;
    }

    private void put(byte b) {
        if (byteCount == bytes.length) {
            bytes = Arrays.copyOf(bytes, bytes.length * 2);
        }
        bytes[byteCount++] = b;
    }
}
