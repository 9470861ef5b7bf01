package dev.lacuna.io.format;

/** Constants of the container (format.md §2-§5) shared by the writer and the reader. */
final class LacunaFile {
    static final byte[] MAGIC = {(byte) 0x8A, 'L', 'C', 'N', '\r', '\n', 0x1A, '\n'};
    static final int MAJOR = 1;
    /** The newest minor version this library reads and writes; files are stamped with the oldest that suffices. */
    static final int MINOR = 1;
    static final int PREAMBLE_BYTES = 24;
    static final int MAX_HEADER_BYTES = 16 << 20;
    static final int MAX_DIRECTORY_BYTES = 64 << 20;
    static final int MAX_RANK = 8;
    static final int ALIGNMENT = 8;
    /** Directory flag: the stored elements are the kept weights of a pruning mask. */
    static final int FLAG_MASKED = 1;

    private LacunaFile() {
    }

    static long align(long offset) {
        return (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** One directory entry (format.md §5). */
    record Entry(String name, int[] shape, int flags, int layoutId, int valueId, long offset, long length, int crc) {
        long elementCount() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }
}
