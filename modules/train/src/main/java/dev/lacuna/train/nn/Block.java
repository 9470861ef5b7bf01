package dev.lacuna.train.nn;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A run of float32 or float64 elements in native memory, read and written element by element from Java loops and
 * handed to BLAS by address ({@link Blas}).
 *
 * <p>Why not INDArrays: an ND4J call costs 5-14 µs whatever its size (platform-notes.md), and one recurrent step
 * needed about twenty of them for the gate activations alone; one Java loop over the step's elements replaces them
 * all. Element access goes through a direct NIO buffer, which the JIT compiles to plain loads and stores. Elements are
 * exchanged as doubles: the float32 path rounds once when it stores, the float64 path (gradient checks) is exact.
 */
abstract sealed class Block permits Block.F32, Block.F64 {
    final int length;
    /** The array whose memory a block made by {@link #over} uses, kept reachable so that it is not freed. */
    private Object owner;

    private Block(int length) {
        this.length = length;
    }

    /** A zeroed block of {@code length} elements of the given type (FLOAT or DOUBLE). */
    static Block allocate(DataType dtype, int length) {
        return dtype == DataType.DOUBLE ? new F64(length) : new F32(length);
    }

    /** A block over the memory of a contiguous array (live: writes through either are seen by the other). */
    static Block over(INDArray contiguous) {
        if (contiguous.dataType() != DataType.FLOAT && contiguous.dataType() != DataType.DOUBLE
                || !contiguous.isVector() && !contiguous.isScalar() || contiguous.elementWiseStride() != 1) {
            throw new IllegalArgumentException("a block needs a contiguous FLOAT or DOUBLE vector, got "
                    + contiguous.dataType() + " " + java.util.Arrays.toString(contiguous.shape()));
        }
        int length = Math.toIntExact(contiguous.length());
        // A view's data() is itself a view buffer (ND4J 1.0.0-M2.1), whose address is already the view's first
        // element: adding offset() again would skip past it (BlasTest checks this).
        Pointer first = contiguous.data().addressPointer();
        Block block = contiguous.dataType() == DataType.DOUBLE
                ? new F64(new DoublePointer(first).position(0).limit(length), length)
                : new F32(new FloatPointer(first).position(0).limit(length), length);
        block.owner = contiguous;
        return block;
    }

    abstract double get(int i);

    abstract void set(int i, double value);

    /** The address of element {@code i}, for BLAS. */
    abstract Pointer at(int i);

    abstract boolean isDouble();

    final void add(int i, double value) {
        set(i, get(i) + value);
    }

    /** Sets {@code count} elements from {@code from} to zero. */
    abstract void zero(int from, int count);

    /** Copies {@code count} elements from {@code src} at {@code srcFrom} to this block at {@code from}. */
    final void copy(Block src, int srcFrom, int from, int count) {
        for (int k = 0; k < count; k++) {
            set(from + k, src.get(srcFrom + k));
        }
    }

    static final class F32 extends Block {
        private final FloatPointer pointer;
        private final FloatBuffer buffer;

        private F32(int length) {
            this(new FloatPointer(length), length);
            pointer.zero();
        }

        private F32(FloatPointer pointer, int length) {
            super(length);
            this.pointer = pointer;
            // the NIO view spans the pointer's position .. limit, i.e. exactly this block
            this.buffer = pointer.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
        }

        @Override
        double get(int i) {
            return buffer.get(i);
        }

        @Override
        void set(int i, double value) {
            buffer.put(i, (float) value);
        }

        @Override
        Pointer at(int i) {
            return new FloatPointer(pointer).position(pointer.position() + i);
        }

        @Override
        boolean isDouble() {
            return false;
        }

        @Override
        void zero(int from, int count) {
            for (int k = from; k < from + count; k++) {
                buffer.put(k, 0f);
            }
        }

        /** Copies {@code count} elements from {@code from} into {@code row[0, count)}. */
        void load(int from, float[] row, int count) {
            buffer.get(from, row, 0, count);
        }

        /** Copies {@code row[0, count)} to the elements from {@code from}. */
        void store(int from, float[] row, int count) {
            buffer.put(from, row, 0, count);
        }

        /** Copies {@code row[rowFrom, rowFrom + count)} to the elements from {@code from}. */
        void store(int from, float[] row, int rowFrom, int count) {
            buffer.put(from, row, rowFrom, count);
        }
    }

    static final class F64 extends Block {
        private final DoublePointer pointer;
        private final DoubleBuffer buffer;

        private F64(int length) {
            this(new DoublePointer(length), length);
            pointer.zero();
        }

        private F64(DoublePointer pointer, int length) {
            super(length);
            this.pointer = pointer;
            this.buffer = pointer.asByteBuffer().order(ByteOrder.nativeOrder()).asDoubleBuffer();
        }

        @Override
        double get(int i) {
            return buffer.get(i);
        }

        @Override
        void set(int i, double value) {
            buffer.put(i, value);
        }

        @Override
        Pointer at(int i) {
            return new DoublePointer(pointer).position(pointer.position() + i);
        }

        @Override
        boolean isDouble() {
            return true;
        }

        @Override
        void zero(int from, int count) {
            for (int k = from; k < from + count; k++) {
                buffer.put(k, 0.0);
            }
        }

        /** Copies {@code count} elements from {@code from} into {@code row[rowFrom, rowFrom + count)}. */
        void load(int from, double[] row, int rowFrom, int count) {
            buffer.get(from, row, rowFrom, count);
        }

        /** Copies {@code row[rowFrom, rowFrom + count)} to the elements from {@code from}. */
        void store(int from, double[] row, int rowFrom, int count) {
            buffer.put(from, row, rowFrom, count);
        }

        /**
         * Replaces {@code row[from, from + count)} by the logistic sigmoid {@code 1 / (1 + e^{−x})}, with
         * {@code Math.exp} in double: this precision serves the gradient checks, where exactness matters.
         */
        void sigmoid(double[] row, int from, int count) {
            for (int k = from; k < from + count; k++) {
                row[k] = 1 / (1 + Math.exp(-row[k]));
            }
        }

        /**
         * As {@link #sigmoid}, for tanh, through one exp (Math.tanh is not an intrinsic on JDK 17); exp of a
         * non-positive argument cannot overflow.
         */
        void tanh(double[] row, int from, int count) {
            for (int k = from; k < from + count; k++) {
                double x = row[k];
                double e = Math.exp(-2 * Math.abs(x));
                double t = (1 - e) / (1 + e);
                row[k] = x < 0 ? -t : t;
            }
        }
    }
}
