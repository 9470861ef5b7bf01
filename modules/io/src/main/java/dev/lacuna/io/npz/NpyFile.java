package dev.lacuna.io.npz;

import dev.lacuna.core.BadFileException;
import dev.lacuna.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A lone NumPy {@code .npy} file (numpy's NEP 1 "NPY format"), read and written with the same header parser and
 * checks as the arrays inside an npz archive: a header that declares more data than the file holds is refused
 * before anything is allocated from it.
 */
public final class NpyFile {
    /** Files are read whole into one Java array. */
    private static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8L;

    private NpyFile() {
    }

    /**
     * Reads an array, named after the file without its {@code .npy} extension.
     *
     * @throws BadFileException naming the file when it is missing, unreadable, not NPY, of an unsupported type, or
     *                          its data does not match the header
     */
    public static NpyArray read(Path file) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new BadFileException(file, "is " + size + " bytes; a .npy file is limited to 2 GiB");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BadFileException(file, "no such file");
        } catch (IOException e) {
            throw new BadFileException(file, "cannot read: " + e.getMessage(), e);
        }
        String name = file.getFileName().toString().replaceFirst("\\.npy$", "");
        try {
            return NpyArray.parse(name, bytes);
        } catch (IllegalArgumentException e) {
            throw new BadFileException(file, e.getMessage(), e);
        }
    }

    /** Writes a float32 array ({@code <f4}, C order, NPY 1.0), atomically. */
    public static void writeF32(Path target, int[] shape, float[] values) {
        NpzWriter.checkShape(target.getFileName().toString(), shape, values.length);
        write(target, "<f4", shape, NpzWriter.f32Bytes(values));
    }

    /** Writes an int64 array ({@code <i8}, C order, NPY 1.0), atomically. */
    public static void writeI64(Path target, int[] shape, long[] values) {
        NpzWriter.checkShape(target.getFileName().toString(), shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, Long.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        write(target, "<i8", shape, b.array());
    }

    private static void write(Path target, String descr, int[] shape, byte[] data) {
        byte[] npy = NpzWriter.npy(target.getFileName().toString(), descr, shape, data);
        AtomicFiles.write(target, out -> out.write(npy));
    }
}
