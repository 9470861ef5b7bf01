package dev.lacuna.io.npz;

import dev.lacuna.core.BadFileException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads an npz archive (what {@code numpy.savez} and {@code numpy.savez_compressed} write): a zip file whose entries
 * {@code <name>.npy} each hold one NPY array.
 *
 * <p>The archive is untrusted input. Each problem is a {@link BadFileException} naming the file and the entry:
 * <ul>
 *   <li>not a zip archive; an entry name that is absolute or contains a {@code ..} segment (path traversal), that
 *       does not end in {@code .npy}, or that appears twice;</li>
 *   <li>an entry that inflates beyond {@link Limits#maxEntryBytes()}, an archive beyond
 *       {@link Limits#maxTotalBytes()}, or a compressed entry that inflates more than
 *       {@link Limits#maxInflationRatio()} times its compressed size: counted while inflating, never taken from the
 *       sizes the zip declares, and every buffer grows only with the bytes actually inflated (zip bombs);</li>
 *   <li>a bad NPY magic, version or header dict; a structured or non-numeric type;</li>
 *   <li>a shape whose element count times the item size (computed with overflow checks) differs from the bytes
 *       present after the header.</li>
 * </ul>
 * Fortran-ordered arrays ({@code fortran_order: True}) are reordered to row-major when read; big-endian types
 * ({@code >f4}, ...) are kept with their byte order and converted by {@link NpyArray#floats()}.
 */
public final class NpzFile {
    private final Path path;
    private final Map<String, NpyArray> arrays;

    private NpzFile(Path path, Map<String, NpyArray> arrays) {
        this.path = path;
        this.arrays = Collections.unmodifiableMap(arrays);
    }

    /**
     * Size guards for reading untrusted archives.
     *
     * @param maxEntryBytes     largest inflated size of one entry
     * @param maxTotalBytes     largest inflated size of all entries together
     * @param maxInflationRatio largest ratio of inflated to compressed size of a compressed entry, checked once the
     *                          entry has inflated past {@value #RATIO_GRACE_BYTES} bytes (small entries of zeros
     *                          legitimately compress far)
     */
    public record Limits(long maxEntryBytes, long maxTotalBytes, int maxInflationRatio) {
        /** Bytes an entry may inflate to before the ratio is enforced. */
        public static final int RATIO_GRACE_BYTES = 1 << 20;

        /**
         * 2 GiB per entry (a Java array's limit), 8 GiB in all, ratio 200: deflate reaches about 1000:1 only on
         * long runs of one byte, while float weights, even 90% pruned ones, stay far below 200:1 overall.
         */
        public static final Limits DEFAULT = new Limits(Integer.MAX_VALUE - 8L, 8L << 30, 200);

        public Limits {
            if (maxEntryBytes < 1 || maxTotalBytes < 1 || maxInflationRatio < 1) {
                throw new IllegalArgumentException("npz limits must be positive");
            }
            maxEntryBytes = Math.min(maxEntryBytes, Integer.MAX_VALUE - 8L);
        }
    }

    /** Reads a whole archive with {@link Limits#DEFAULT}. */
    public static NpzFile read(Path file) {
        return read(file, Limits.DEFAULT);
    }

    /**
     * Reads and validates a whole archive.
     *
     * @throws BadFileException naming the file (and the entry) when it is missing, unreadable, malformed or too big
     */
    public static NpzFile read(Path file, Limits limits) {
        if (Files.isDirectory(file)) {
            throw new BadFileException(file, "is a directory, expected an npz file");
        }
        if (!Files.exists(file)) {
            throw new BadFileException(file, "no such file");
        }
        try (ZipFile zip = new ZipFile(file.toFile())) {
            return new Reader(file, zip, limits).read();
        } catch (ZipException e) {
            throw new BadFileException(file, "not a valid zip archive (an npz file is a zip of .npy arrays): "
                    + e.getMessage(), e);
        } catch (AccessDeniedException e) {
            throw new BadFileException(file, "permission denied", e);
        } catch (IOException e) {
            throw new BadFileException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** The file this content was read from. */
    public Path path() {
        return path;
    }

    /** Every array, in archive order, by name (the entry name without {@code .npy}). */
    public Map<String, NpyArray> arrays() {
        return arrays;
    }

    /**
     * The values of a float array as float32.
     *
     * @throws BadFileException when the array is absent or not of a float type
     */
    public float[] floats(String name) {
        NpyArray a = arrays.get(name);
        if (a == null) {
            throw new BadFileException(path, "no array named '" + name + "'");
        }
        if (!a.isFloating()) {
            throw new BadFileException(path, "array '" + name + "': expected a float type (f2, f4, f8) for weights, "
                    + "found " + a.descr());
        }
        return a.floats();
    }

    /** Reads one archive; every message names the file and entry. */
    private static final class Reader {
        private static final int READ_CHUNK = 1 << 16;

        private final Path file;
        private final ZipFile zip;
        private final Limits limits;
        private final long fileSize;
        private long total;

        Reader(Path file, ZipFile zip, Limits limits) throws IOException {
            this.file = file;
            this.zip = zip;
            this.limits = limits;
            this.fileSize = Files.size(file);
        }

        NpzFile read() throws IOException {
            Map<String, NpyArray> arrays = new LinkedHashMap<>();
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = nextEntry(entries, arrays.size());
                String name = arrayName(entry.getName());
                if (arrays.containsKey(name)) {
                    throw bad(entry, "appears twice in the archive");
                }
                arrays.put(name, parse(entry, name, inflate(entry)));
            }
            return new NpzFile(file, arrays);
        }

        /**
         * The next entry. ZipFile decodes an entry's name only when the entry is listed, and refuses bytes that are
         * not the UTF-8 the entry's flags (or the archive's default charset) promise with an unchecked exception.
         */
        private ZipEntry nextEntry(Enumeration<? extends ZipEntry> entries, int index) {
            try {
                return entries.nextElement();
            } catch (IllegalArgumentException e) {
                throw new BadFileException(file, "entry " + (index + 1) + ": its name is not valid UTF-8 ("
                        + e.getMessage() + ")");
            }
        }

        private String arrayName(String entryName) {
            String where = "entry '" + entryName + "'";
            String normalized = entryName.replace('\\', '/');
            boolean absolute = normalized.startsWith("/") || normalized.matches("^[A-Za-z]:.*");
            boolean traversal = Arrays.asList(normalized.split("/")).contains("..");
            if (absolute || traversal) {
                throw new BadFileException(file, where + ": absolute or parent-relative names are refused (a zip "
                        + "entry must not point outside the archive)");
            }
            if (!entryName.endsWith(".npy") || entryName.length() == ".npy".length()) {
                throw new BadFileException(file, where + ": expected '<name>.npy' entries only");
            }
            return entryName.substring(0, entryName.length() - ".npy".length());
        }

        /** Inflates one entry into a buffer that grows only with the bytes that really come out. */
        private byte[] inflate(ZipEntry entry) throws IOException {
            long budget = Math.min(limits.maxEntryBytes(), limits.maxTotalBytes() - total);
            // the declared compressed size only bounds the ratio; it can be no larger than the file itself
            long compressed = entry.getCompressedSize() > 0 ? Math.min(entry.getCompressedSize(), fileSize)
                    : fileSize;
            boolean deflated = entry.getMethod() != ZipEntry.STORED;
            byte[] buffer = new byte[(int) Math.min(READ_CHUNK, budget + 1)];
            int count = 0;
            try (InputStream in = zip.getInputStream(entry)) {
                while (true) {
                    if (count == buffer.length) {
                        buffer = Arrays.copyOf(buffer, (int) Math.min((long) buffer.length * 2, budget + 1));
                    }
                    int n = in.read(buffer, count, buffer.length - count);
                    if (n < 0) {
                        break;
                    }
                    count += n;
                    if (count > budget) {
                        throw bad(entry, budget == limits.maxEntryBytes()
                                ? "inflates to more than " + limits.maxEntryBytes() + " bytes, the limit per entry"
                                : "the archive inflates to more than " + limits.maxTotalBytes()
                                        + " bytes, the limit per archive");
                    }
                    if (deflated && count > Limits.RATIO_GRACE_BYTES
                            && count > compressed * limits.maxInflationRatio()) {
                        throw bad(entry, "inflates more than " + limits.maxInflationRatio() + " times its "
                                + compressed + " compressed bytes (a zip bomb?)");
                    }
                }
            } catch (ZipException e) {
                throw bad(entry, "corrupt compressed data: " + e.getMessage());
            }
            total += count;
            return Arrays.copyOf(buffer, count);
        }

        private NpyArray parse(ZipEntry entry, String name, byte[] npy) {
            try {
                return NpyArray.parse(name, npy);
            } catch (IllegalArgumentException e) {
                throw bad(entry, e.getMessage());
            }
        }

        private BadFileException bad(ZipEntry entry, String problem) {
            return new BadFileException(file, "entry '" + entry.getName() + "': " + problem);
        }
    }

    /**
     * Reorders column-major (Fortran) data to row-major: the element at index (i0, ..., in) sits at
     * Σ i_k · Π_{j<k} d_j in column-major order. Walks the row-major indices with an odometer.
     */
    static byte[] toRowMajor(byte[] columnMajor, int[] shape, int itemSize) {
        int rank = shape.length;
        long[] stride = new long[rank];
        long s = 1;
        for (int k = 0; k < rank; k++) {
            stride[k] = s;
            s *= shape[k];
        }
        byte[] out = new byte[columnMajor.length];
        int[] index = new int[rank];
        long source = 0;
        int elements = columnMajor.length / itemSize;
        for (int i = 0; i < elements; i++) {
            System.arraycopy(columnMajor, (int) (source * itemSize), out, i * itemSize, itemSize);
            for (int k = rank - 1; k >= 0; k--) {
                index[k]++;
                source += stride[k];
                if (index[k] < shape[k]) {
                    break;
                }
                source -= stride[k] * index[k];
                index[k] = 0;
            }
        }
        return out;
    }
}
