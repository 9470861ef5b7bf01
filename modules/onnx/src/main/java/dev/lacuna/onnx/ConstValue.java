package dev.lacuna.onnx;

import java.util.Arrays;
import java.util.List;

/**
 * A tensor value known at import time: real-valued ({@link #floats}) or integer ({@link #longs}), row-major.
 *
 * <p>Values are immutable: shape-only operations (Reshape, Squeeze, Unsqueeze, Identity) share the backing array,
 * so nobody may write into it. The data-moving operations implement the ONNX operator spec (Operators.md) for the
 * cases exporters use; they throw {@link IllegalArgumentException} on operands the spec does not allow, which the
 * caller turns into an error naming the node.
 */
record ConstValue(int[] dims, float[] floats, long[] longs) {

    ConstValue {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        int size = floats != null ? floats.length : longs.length;
        if (n != size || (floats == null) == (longs == null)) {
            throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " does not hold " + size + " values");
        }
    }

    static ConstValue ofFloats(int[] dims, float[] values) {
        return new ConstValue(dims, values, null);
    }

    static ConstValue ofLongs(int[] dims, long[] values) {
        return new ConstValue(dims, null, values);
    }

    boolean isReal() {
        return floats != null;
    }

    int size() {
        return floats != null ? floats.length : longs.length;
    }

    int rank() {
        return dims.length;
    }

    /** The values as longs, for shape, axis and index operands. */
    long[] asLongs() {
        if (longs != null) {
            return longs;
        }
        throw new IllegalArgumentException("expected an integer tensor, found floats");
    }

    ConstValue reshaped(int[] newDims) {
        return new ConstValue(newDims, floats, longs);
    }

    /** Cast: to a real type (float32 precision) or to an integer type (truncation toward zero, as C casts). */
    ConstValue cast(boolean toReal) {
        if (toReal == isReal()) {
            return this;
        }
        if (toReal) {
            float[] out = new float[longs.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = longs[i];
            }
            return ofFloats(dims, out);
        }
        long[] out = new long[floats.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (long) floats[i];
        }
        return ofLongs(dims, out);
    }

    /** Normalises a possibly negative axis against {@code rank} (ONNX accepts [-rank, rank-1]). */
    static int axis(long axis, int rank) {
        if (axis < -rank || axis >= rank) {
            throw new IllegalArgumentException("axis " + axis + " is out of range for rank " + rank);
        }
        return (int) (axis < 0 ? axis + rank : axis);
    }

    ConstValue transpose(long[] perm) {
        int r = rank();
        int[] p = new int[r];
        boolean[] seen = new boolean[r];
        for (int k = 0; k < r; k++) {
            p[k] = perm == null ? r - 1 - k : axis(perm[k], r);
            if (seen[p[k]]) {
                throw new IllegalArgumentException("perm " + Arrays.toString(perm) + " is not a permutation");
            }
            seen[p[k]] = true;
        }
        if (perm != null && perm.length != r) {
            throw new IllegalArgumentException("perm " + Arrays.toString(perm) + " does not match rank " + r);
        }
        int[] outDims = new int[r];
        long[] sourceStep = new long[r];
        long[] inStrides = strides(dims);
        for (int k = 0; k < r; k++) {
            outDims[k] = dims[p[k]];
            sourceStep[k] = inStrides[p[k]];
        }
        return strided(outDims, 0, sourceStep);
    }

    /** Slice with per-axis starts, ends and steps already normalised to this value's dims. */
    ConstValue slice(int[] starts, int[] counts, int[] steps) {
        long[] inStrides = strides(dims);
        long base = 0;
        long[] step = new long[rank()];
        for (int k = 0; k < rank(); k++) {
            base += starts[k] * inStrides[k];
            step[k] = steps[k] * inStrides[k];
        }
        return strided(counts, base, step);
    }

    /**
     * ONNX Slice (opset 10+ semantics; opset 1 is the same without steps): clamps starts and ends to the axis,
     * counting negative values from its end.
     */
    ConstValue slice(long[] starts, long[] ends, long[] axes, long[] steps) {
        int r = rank();
        if (starts.length != ends.length || (axes != null && axes.length != starts.length)
                || (steps != null && steps.length != starts.length)) {
            throw new IllegalArgumentException("starts, ends, axes and steps differ in length");
        }
        int[] from = new int[r];
        int[] count = dims.clone();
        int[] stride = new int[r];
        Arrays.fill(stride, 1);
        boolean[] seen = new boolean[r];
        for (int i = 0; i < starts.length; i++) {
            int a = axis(axes == null ? i : axes[i], r);
            if (seen[a]) {
                throw new IllegalArgumentException("axis " + a + " is sliced twice");
            }
            seen[a] = true;
            long step = steps == null ? 1 : steps[i];
            if (step == 0 || Math.abs(step) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("step " + step + " is not allowed");
            }
            long n = dims[a];
            long s = starts[i] < 0 ? starts[i] + n : starts[i];
            long e = ends[i] < 0 ? ends[i] + n : ends[i];
            long c;
            if (step > 0) {
                s = Math.max(0, Math.min(s, n));
                e = Math.max(0, Math.min(e, n));
                c = e > s ? (e - s + step - 1) / step : 0;
            } else {
                s = Math.max(-1, Math.min(s, n - 1));
                e = Math.max(-1, Math.min(e, n - 1));
                c = s > e ? (s - e - step - 1) / -step : 0;
            }
            from[a] = (int) Math.max(s, 0);
            count[a] = (int) c;
            stride[a] = (int) step;
        }
        return slice(from, count, stride);
    }

    static ConstValue concat(List<ConstValue> parts, long axisAttribute) {
        ConstValue first = parts.get(0);
        int r = first.rank();
        int a = axis(axisAttribute, r);
        int[] outDims = first.dims.clone();
        outDims[a] = 0;
        for (ConstValue v : parts) {
            if (v.rank() != r || v.isReal() != first.isReal()) {
                throw new IllegalArgumentException("inputs differ in rank or element type");
            }
            for (int k = 0; k < r; k++) {
                if (k != a && v.dims[k] != first.dims[k]) {
                    throw new IllegalArgumentException("input shapes " + Arrays.toString(first.dims) + " and "
                            + Arrays.toString(v.dims) + " differ outside axis " + a);
                }
            }
            outDims[a] = Math.addExact(outDims[a], v.dims[a]);
        }
        long outer = 1;
        for (int k = 0; k < a; k++) {
            outer *= outDims[k];
        }
        long total = outer * (outDims[a] * stridesAfter(outDims, a));
        if (total > OnnxTensors.MAX_ELEMENTS) {
            throw new IllegalArgumentException("result holds more than " + OnnxTensors.MAX_ELEMENTS + " values");
        }
        Object out = first.isReal() ? new float[(int) total] : new long[(int) total];
        int pos = 0;
        for (long o = 0; o < outer; o++) {
            for (ConstValue v : parts) {
                int chunk = (int) (v.dims[a] * stridesAfter(v.dims, a));
                System.arraycopy(v.array(), (int) (o * chunk), out, pos, chunk);
                pos += chunk;
            }
        }
        return first.isReal() ? ofFloats(outDims, (float[]) out) : ofLongs(outDims, (long[]) out);
    }

    /** ONNX Gather: picks entries along {@code axis}; negative indices count from the end. */
    ConstValue gather(ConstValue indices, long axisAttribute) {
        int a = axis(axisAttribute, rank());
        long[] idx = indices.asLongs();
        int[] outDims = new int[rank() - 1 + indices.rank()];
        System.arraycopy(dims, 0, outDims, 0, a);
        System.arraycopy(indices.dims, 0, outDims, a, indices.rank());
        System.arraycopy(dims, a + 1, outDims, a + indices.rank(), rank() - a - 1);
        int inner = (int) stridesAfter(dims, a);
        long outer = 1;
        for (int k = 0; k < a; k++) {
            outer *= dims[k];
        }
        long total = outer * idx.length * inner;
        if (total > OnnxTensors.MAX_ELEMENTS) {
            throw new IllegalArgumentException("result holds more than " + OnnxTensors.MAX_ELEMENTS + " values");
        }
        Object out = isReal() ? new float[(int) total] : new long[(int) total];
        int pos = 0;
        for (long o = 0; o < outer; o++) {
            for (long i : idx) {
                long j = i < 0 ? i + dims[a] : i;
                if (j < 0 || j >= dims[a]) {
                    throw new IllegalArgumentException("index " + i + " is out of range for axis size " + dims[a]);
                }
                System.arraycopy(array(), (int) ((o * dims[a] + j) * inner), out, pos, inner);
                pos += inner;
            }
        }
        return isReal() ? ofFloats(outDims, (float[]) out) : ofLongs(outDims, (long[]) out);
    }

    private Object array() {
        return floats != null ? floats : longs;
    }

    /** Copies the elements at {@code base + Σ index_k · step_k} into a new value of shape {@code outDims}. */
    private ConstValue strided(int[] outDims, long base, long[] step) {
        long total = 1;
        for (int d : outDims) {
            total *= d;
        }
        int n = (int) total;
        int r = outDims.length;
        int[] index = new int[r];
        float[] f = floats != null ? new float[n] : null;
        long[] l = floats == null ? new long[n] : null;
        long source = base;
        for (int i = 0; i < n; i++) {
            if (f != null) {
                f[i] = floats[(int) source];
            } else {
                l[i] = longs[(int) source];
            }
            // odometer increment of the output index, moving the source offset along
            for (int k = r - 1; k >= 0; k--) {
                index[k]++;
                source += step[k];
                if (index[k] < outDims[k]) {
                    break;
                }
                source -= step[k] * index[k];
                index[k] = 0;
            }
        }
        return new ConstValue(outDims, f, l);
    }

    static long[] strides(int[] dims) {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int k = dims.length - 1; k >= 0; k--) {
            s[k] = acc;
            acc *= dims[k];
        }
        return s;
    }

    private static long stridesAfter(int[] dims, int axis) {
        long n = 1;
        for (int k = axis + 1; k < dims.length; k++) {
            n *= dims[k];
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConstValue v && Arrays.equals(v.dims, dims) && Arrays.equals(v.floats, floats)
                && Arrays.equals(v.longs, longs);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims) * 31 + Arrays.hashCode(floats) + Arrays.hashCode(longs);
    }

    @Override
    public String toString() {
        return (isReal() ? "float" : "int") + Arrays.toString(dims);
    }
}
