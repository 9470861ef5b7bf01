package dev.lacuna.io.npz;

import dev.lacuna.io.AtomicFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Collects arrays and writes them as an npz archive that {@code numpy.load} reads: one STORED (uncompressed) zip
 * entry {@code <name>.npy} per array, in the order added, each an NPY version 1.0 file whose header is padded to a
 * multiple of 64 bytes as numpy pads it.
 *
 * <p>The bytes are a pure function of the arrays: every entry carries the fixed DOS timestamp 2000-01-01 00:00,
 * written without a time zone conversion, and no extra fields. (Not 1980-01-01 00:00: {@code ZipEntry} treats that
 * value as "before 1980" and adds an extended timestamp converted through the default time zone.)
 */
public final class NpzWriter {
    private static final LocalDateTime FIXED_TIME = LocalDateTime.of(2000, 1, 1, 0, 0);
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

    private final List<Pending> arrays = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** Adds a little-endian float32 array ({@code <f4}). */
    public NpzWriter addF32(String name, int[] shape, float[] values) {
        checkShape(name, shape, values.length);
        return add(name, "<f4", shape, f32Bytes(values));
    }

    /** Little-endian float32 bytes, raw bits: NaN payloads survive the round trip. */
    static byte[] f32Bytes(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, Float.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putInt(Float.floatToRawIntBits(v));
        }
        return b.array();
    }

    /** Adds a boolean array ({@code |b1}, one byte per element). */
    public NpzWriter addBool(String name, int[] shape, boolean[] values) {
        checkShape(name, shape, values.length);
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = values[i] ? (byte) 1 : (byte) 0;
        }
        return add(name, "|b1", shape, bytes);
    }

    /**
     * Adds a zero-dimensional unicode string array ({@code <U<n>}, UTF-32 little-endian), what
     * {@code numpy.array("text")} saves; numpy loads it without {@code allow_pickle}.
     *
     * @throws IllegalArgumentException when the text contains NUL, which numpy strips from string arrays
     */
    public NpzWriter addString(String name, String text) {
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(name + ": a numpy string array cannot hold NUL characters");
        }
        int[] codePoints = text.codePoints().toArray();
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(codePoints.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (int cp : codePoints) {
            b.putInt(cp);
        }
        return add(name, "<U" + codePoints.length, new int[0], b.array());
    }

    /**
     * Writes the archive atomically through {@link AtomicFiles}.
     *
     * @throws dev.lacuna.core.BadFileException naming {@code target} when it cannot be written
     */
    public void write(Path target) {
        AtomicFiles.write(target, this::writeTo);
    }

    /** Writes the archive's bytes to a stream (finished, not closed). */
    public void writeTo(OutputStream out) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out, StandardCharsets.UTF_8);
        for (Pending a : arrays) {
            byte[] npy = npy(a.name, a.descr, a.shape, a.data);
            ZipEntry entry = new ZipEntry(a.name + ".npy");
            entry.setMethod(ZipEntry.STORED);
            entry.setTimeLocal(FIXED_TIME);
            entry.setSize(npy.length);
            entry.setCompressedSize(npy.length);
            CRC32 crc = new CRC32();
            crc.update(npy);
            entry.setCrc(crc.getValue());
            zip.putNextEntry(entry);
            zip.write(npy);
            zip.closeEntry();
        }
        zip.finish();
    }

    private NpzWriter add(String name, String descr, int[] shape, byte[] data) {
        if (name == null || name.isEmpty() || name.contains("..") || name.startsWith("/") || name.contains("\\")) {
            throw new IllegalArgumentException("invalid array name '" + name + "'");
        }
        if (!names.add(name)) {
            throw new IllegalArgumentException("array '" + name + "' added twice");
        }
        arrays.add(new Pending(name, descr, shape.clone(), data));
        return this;
    }

    static void checkShape(String name, int[] shape, int given) {
        long elements = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (elements != given) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " holds " + elements
                    + " elements but " + given + " values were given");
        }
    }

    /** NPY 1.0: magic, version, 2-byte header length, the header dict padded with spaces and ended by a newline. */
    static byte[] npy(String name, String descr, int[] dims, byte[] data) {
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            shape.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        shape.append(dims.length == 1 ? ",)" : ")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int unpadded = MAGIC.length + 2 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        byte[] headerBytes = header.getBytes(StandardCharsets.ISO_8859_1);
        if (headerBytes.length > 0xFFFF) {
            throw new IllegalArgumentException(name + ": shape too long for an NPY 1.0 header");
        }
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 2 + headerBytes.length + data.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).putShort((short) headerBytes.length).put(headerBytes).put(data);
        return out.array();
    }

    private record Pending(String name, String descr, int[] shape, byte[] data) {
    }
}
