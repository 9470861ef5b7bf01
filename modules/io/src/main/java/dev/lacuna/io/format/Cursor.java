package dev.lacuna.io.format;

import dev.lacuna.core.BadFileException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * Reads one section of a {@code .lacuna} file, checking every length against the bytes that remain before anything
 * is allocated; each error names the file, the section and the absolute byte offset (format.md §9).
 */
final class Cursor {
    private final Path file;
    private final String section;
    private final ByteBuffer buffer;
    private final long base;

    /** @param base absolute file offset of {@code buffer}'s first byte */
    Cursor(Path file, String section, ByteBuffer buffer, long base) {
        this.file = file;
        this.section = section;
        this.buffer = buffer.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.base = base;
    }

    long offset() {
        return base + buffer.position();
    }

    int remaining() {
        return buffer.remaining();
    }

    int u8(String field) {
        need(1, field);
        return buffer.get() & 0xFF;
    }

    int u16(String field) {
        need(2, field);
        return buffer.getShort() & 0xFFFF;
    }

    long u32(String field) {
        need(4, field);
        return buffer.getInt() & 0xFFFF_FFFFL;
    }

    long u64(String field) {
        need(8, field);
        long offset = offset();
        long value = buffer.getLong();
        if (value < 0) {
            throw failAt(offset, field + " " + Long.toUnsignedString(value) + " is too large");
        }
        return value;
    }

    float f32(String field) {
        need(4, field);
        return buffer.getFloat();
    }

    /** A u32 that counts bytes still to come in this section: checked against them before the caller allocates. */
    int byteLength(String field) {
        long offset = offset();
        long length = u32(field);
        if (length > buffer.remaining()) {
            throw failAt(offset, field + " is " + length + " bytes but only " + buffer.remaining() + " remain");
        }
        return (int) length;
    }

    byte[] bytes(int length, String field) {
        need(length, field);
        byte[] out = new byte[length];
        buffer.get(out);
        return out;
    }

    /** The next {@code length} bytes as a little-endian view, consumed. */
    ByteBuffer view(long length, String field) {
        need(length, field);
        ByteBuffer view = buffer.slice().limit((int) length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.position(buffer.position() + (int) length);
        return view;
    }

    /** The section must be fully consumed: trailing bytes mean inconsistent lengths. */
    void expectEnd() {
        if (buffer.hasRemaining()) {
            throw fail(buffer.remaining() + " unexpected bytes at the end of the section");
        }
    }

    BadFileException fail(String problem) {
        return failAt(offset(), problem);
    }

    BadFileException failAt(long offset, String problem) {
        return new BadFileException(file, section + " at byte " + offset + ": " + problem);
    }

    private void need(long length, String field) {
        if (length > buffer.remaining()) {
            throw fail("truncated: " + field + " needs " + length + " bytes, " + buffer.remaining() + " remain");
        }
    }
}
