package dev.lacuna.io.npz;

import java.util.Arrays;

/**
 * One array of an npz archive: its name (the entry name without {@code .npy}), numpy type, shape, and raw bytes in
 * row-major (C) order and in the byte order the type names. Fortran-ordered arrays are reordered when read, so
 * {@link #data()} is always row-major.
 */
public final class NpyArray {
    private final String name;
    private final NpyDType dtype;
    private final int[] shape;
    private final byte[] data;

    NpyArray(String name, NpyDType dtype, int[] shape, byte[] data) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
    }

    /**
     * Parses the bytes of one NPY file (an npz entry or a lone {@code .npy}); the declared shape must account for
     * exactly the data bytes present, so nothing is allocated from the header alone. Column-major data is reordered.
     *
     * @throws IllegalArgumentException describing the problem, for the caller to prefix with the file's name
     */
    static NpyArray parse(String name, byte[] npy) {
        NpyHeader header = NpyHeader.parse(npy);
        long needed;
        try {
            long elements = 1;
            for (int d : header.shape()) {
                elements = Math.multiplyExact(elements, d);
            }
            needed = Math.multiplyExact(elements, header.dtype().itemSize());
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException("shape " + Arrays.toString(header.shape())
                    + " holds more elements than any file");
        }
        long present = npy.length - header.dataOffset();
        if (needed != present) {
            throw new IllegalArgumentException("shape " + Arrays.toString(header.shape()) + " of "
                    + header.dtype().descr() + " needs " + needed + " bytes of data, but the array holds " + present
                    + (present < needed ? " (truncated?)" : " (trailing bytes)"));
        }
        byte[] data = Arrays.copyOfRange(npy, header.dataOffset(), npy.length);
        if (header.fortranOrder() && header.shape().length > 1 && header.dtype().itemSize() > 0) {
            data = NpzFile.toRowMajor(data, header.shape(), header.dtype().itemSize());
        }
        return new NpyArray(name, header.dtype(), header.shape(), data);
    }

    public String name() {
        return name;
    }

    /** The numpy type as numpy spells it, e.g. {@code <f4}, {@code >f8}, {@code |u1}, {@code |b1}. */
    public String descr() {
        return dtype.descr();
    }

    /** Whether the type is a float ({@code f2}, {@code f4} or {@code f8}) that {@link #floats()} converts. */
    public boolean isFloating() {
        return dtype.isFloating();
    }

    /** Whether this is a unicode string array ({@code <U...}), which has no numeric values. */
    public boolean isText() {
        return dtype.isString();
    }

    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements (the product of the shape; the reader checked it against the bytes present). */
    public int elementCount() {
        return dtype.itemSize() == 0 ? 0 : data.length / dtype.itemSize();
    }

    /**
     * The text of a single-element unicode array ({@code <U...}, e.g. {@code numpy.array("text")}), without the NUL
     * padding numpy strips too.
     *
     * @throws IllegalStateException when the array is not one unicode string
     */
    public String string() {
        if (!dtype.isString() || elementCount() != 1) {
            throw new IllegalStateException(name + " has type " + descr() + " and shape " + Arrays.toString(shape)
                    + ", not a single string");
        }
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(data).order(dtype.order());
        StringBuilder text = new StringBuilder();
        while (in.remaining() >= 4) {
            int codePoint = in.getInt();
            if (codePoint == 0) {
                break;
            }
            if (!Character.isValidCodePoint(codePoint)) {
                throw new IllegalStateException(name + ": " + Integer.toHexString(codePoint)
                        + " is not a Unicode code point");
            }
            text.appendCodePoint(codePoint);
        }
        return text.toString();
    }

    /** The raw row-major bytes (a copy). */
    public byte[] data() {
        return data.clone();
    }

    /**
     * The values as float32, converting half and double precision and either byte order.
     *
     * @throws IllegalStateException when the type is not a float (readers of user files check {@link #isFloating()}
     *                               first and name the file)
     */
    public float[] floats() {
        if (!isFloating()) {
            throw new IllegalStateException(name + " has type " + descr() + ", not a float type");
        }
        return dtype.toFloats(data, elementCount());
    }

    /** Whether the type is an integer or boolean, whose values {@link #longs()} returns exactly. */
    public boolean isInteger() {
        return dtype.kind() == 'i' || dtype.kind() == 'u' || dtype.kind() == 'b';
    }

    /**
     * The values of an integer or boolean type as int64, exactly (token ids, for instance).
     *
     * @throws IllegalStateException when the type is not an integer type, or a uint64 value exceeds int64
     */
    public long[] longs() {
        if (!isInteger()) {
            throw new IllegalStateException(name + " has type " + descr() + ", not an integer type");
        }
        return dtype.toLongs(data, elementCount());
    }

    /** The values of any numeric type as float32: booleans become 0 and 1, large integers may round. */
    public float[] numericValues() {
        return dtype.toFloats(data, elementCount());
    }

    @Override
    public String toString() {
        return name + " " + descr() + Arrays.toString(shape);
    }
}
