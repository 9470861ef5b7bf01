package dev.lacuna.onnx;

import dev.lacuna.core.BadFileException;
import dev.lacuna.io.npz.NpyArray;
import dev.lacuna.io.npz.NpyFile;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@code lacuna verify}'s inputs and expected outputs as NumPy {@code .npy} files, through io's NPY reader and
 * writer: float types (f2/f4/f8) are read as float32, integer and boolean types as int64, which is what ONNX
 * Runtime is fed.
 */
public final class Npy {
    private Npy() {
    }

    /**
     * Reads an array.
     *
     * @throws BadFileException naming the file when it is missing, not NPY, of an unsupported type, or its data
     *                          does not match the header
     */
    public static NdArray read(Path file) {
        NpyArray array = NpyFile.read(file);
        long[] shape = Arrays.stream(array.shape()).asLongStream().toArray();
        if (array.isFloating()) {
            return NdArray.ofFloats(shape, array.floats());
        }
        if (array.isInteger()) {
            try {
                return NdArray.ofLongs(shape, array.longs());
            } catch (IllegalStateException e) {
                throw new BadFileException(file, e.getMessage());
            }
        }
        throw new BadFileException(file, "type " + array.descr() + " is neither a float nor an integer type");
    }

    /** Writes an array as NPY 1.0 ({@code <f4} or {@code <i8}, C order), atomically. */
    public static void write(Path target, NdArray array) {
        int[] shape = Arrays.stream(array.shape()).mapToInt(Math::toIntExact).toArray();
        if (array.isFloat()) {
            NpyFile.writeF32(target, shape, array.floats());
        } else {
            NpyFile.writeI64(target, shape, array.longs());
        }
    }
}
