package dev.lacuna.io.format;

/**
 * Reads a stream written by {@link BitWriter}. Reads past the end yield zero bits so that a table decoder may peek;
 * {@link #overrun()} and {@link #paddingIsZero()} let the caller reject a stream that is too short or badly padded.
 */
final class BitReader {
    private final byte[] bytes;
    private final long totalBits;
    private long position;

    BitReader(byte[] bytes) {
        this.bytes = bytes;
        this.totalBits = (long) bytes.length * 8;
    }

    /** The next {@code width} bits (0..25) without consuming them. */
    int peek(int width) {
        if (width == 0) {
            return 0;
        }
        int byteIndex = (int) (position >>> 3);
        int window = 0;
        for (int i = 0; i < 4; i++) {
            window = (window << 8) | (byteIndex + i < bytes.length ? bytes[byteIndex + i] & 0xFF : 0);
        }
        int offset = (int) (position & 7);
        return (int) (((window & 0xFFFF_FFFFL) >>> (32 - offset - width)) & ((1L << width) - 1));
    }

    /** Consumes {@code width} bits (0..25). */
    int read(int width) {
        int value = peek(width);
        position += width;
        return value;
    }

    void skip(int width) {
        position += width;
    }

    long position() {
        return position;
    }

    /** True once more bits were consumed than the stream holds. */
    boolean overrun() {
        return position > totalBits;
    }

    /** The stream ends in the byte holding the last consumed bit, and the bits after it are zero. */
    boolean paddingIsZero() {
        long usedBytes = (position + 7) >>> 3;
        if (usedBytes != bytes.length) {
            return false;
        }
        int rest = (int) (totalBits - position);
        return rest == 0 || (bytes[bytes.length - 1] & ((1 << rest) - 1)) == 0;
    }
}
