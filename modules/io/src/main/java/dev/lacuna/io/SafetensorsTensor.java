package dev.lacuna.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: its name, element type, shape and raw row-major little-endian bytes.
 */
public final class SafetensorsTensor {
    private final String name;
    private final SafetensorsDType dtype;
    private final int[] shape;
    private final byte[] data;

    SafetensorsTensor(String name, SafetensorsDType dtype, int[] shape, byte[] data) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
    }

    public String name() {
        return name;
    }

    public SafetensorsDType dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements (the product of the shape; the reader checked it fits the bytes). */
    public int elementCount() {
        return data.length / dtype.byteSize();
    }

    /** The raw bytes, read-only, little-endian. */
    public ByteBuffer data() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The values as float32, converting F64, F16 and BF16.
     *
     * @throws IllegalStateException when the type is not a floating type (callers that read user files check
     *                               {@link SafetensorsDType#isFloating()} first and report the file)
     */
    public float[] toFloats() {
        return dtype.toFloats(ByteBuffer.wrap(data), elementCount());
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
