package dev.lacuna.onnx;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The values of a float32 tensor as runs of existing arrays (a model's tensors, gate blocks in ONNX order), so an
 * export can write them into the file without first copying them into a tensor-sized array and a second time into
 * a {@code ByteString}: the heap of an export stays near the size of the model itself (issue #3: peak heap ≤ 1.5 ×
 * the file).
 */
final class DenseValues {
    /** Floats converted per chunk when writing: 256 KiB, few write calls and still cache-sized. */
    private static final int CHUNK = 1 << 16;
    /** Largest limit {@link #moreDistinctThan} accepts (its table is 4 to 8 ints per counted value). */
    static final int MAX_DISTINCT_LIMIT = 1 << 20;

    private record Run(float[] array, int offset, int length) {
    }

    private final List<Run> runs = new ArrayList<>();
    private int size;

    /** The whole array. */
    static DenseValues of(float[] values) {
        return new DenseValues().append(values, 0, values.length);
    }

    /** Appends {@code length} values of {@code array} from {@code offset}; the array is read, never written. */
    DenseValues append(float[] array, int offset, int length) {
        if (offset < 0 || length < 0 || offset > array.length - length) {
            throw new IndexOutOfBoundsException("run " + offset + "+" + length + " of " + array.length + " values");
        }
        runs.add(new Run(array, offset, length));
        size = Math.addExact(size, length);
        return this;
    }

    int size() {
        return size;
    }

    /** The values in one new array. */
    float[] toArray() {
        if (runs.size() == 1 && runs.get(0).offset == 0 && runs.get(0).length == runs.get(0).array.length) {
            return runs.get(0).array.clone();
        }
        float[] out = new float[size];
        int at = 0;
        for (Run r : runs) {
            System.arraycopy(r.array, r.offset, out, at, r.length);
            at += r.length;
        }
        return out;
    }

    /** Values whose bit pattern is not zero (a {@code -0.0} counts, as {@link SparseStorage} stores it). */
    long nonzeroCount() {
        long count = 0;
        for (Run r : runs) {
            int inRun = 0;
            for (int i = r.offset, end = r.offset + r.length; i < end; i++) {
                // a conditional add C2 turns into branch-free code: 3-4x faster than an if on this loop
                inRun += Float.floatToRawIntBits(r.array[i]) != 0 ? 1 : 0;
            }
            count += inRun;
        }
        return count;
    }

    /**
     * Whether more than {@code limit} distinct non-zero bit patterns occur; stops counting as soon as the answer is
     * known, so a dense float tensor costs a table of about {@code 4 · limit} ints, not one entry per value.
     *
     * @param limit at most {@value #MAX_DISTINCT_LIMIT} (the codebook's limit is 2^16)
     */
    boolean moreDistinctThan(int limit) {
        if (limit < 0 || limit > MAX_DISTINCT_LIMIT) {
            throw new IllegalArgumentException("distinct-value limit " + limit + " outside 0.." + MAX_DISTINCT_LIMIT);
        }
        // open addressing on the bit patterns themselves, at most half full; 0 (+0.0, never counted) marks a free slot
        int[] table = new int[Integer.highestOneBit(Math.max(limit, 1)) << 2];
        int mask = table.length - 1;
        int distinct = 0;
        for (Run r : runs) {
            for (int i = r.offset, end = r.offset + r.length; i < end; i++) {
                int bits = Float.floatToRawIntBits(r.array[i]);
                if (bits == 0) {
                    continue;
                }
                int h = bits * 0x9E3779B9; // Fibonacci hashing: nearby floats land far apart
                int slot = (h ^ (h >>> 16)) & mask;
                while (table[slot] != 0 && table[slot] != bits) {
                    slot = (slot + 1) & mask;
                }
                if (table[slot] == 0) {
                    table[slot] = bits;
                    if (++distinct > limit) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Writes the values as little-endian float32, the layout of {@code TensorProto.raw_data}: one bulk conversion
     * per chunk (a view buffer's bulk put, not a per-element loop) and one write of the chunk.
     */
    void writeLittleEndian(OutputStream out) throws IOException {
        byte[] chunk = new byte[CHUNK * Float.BYTES];
        FloatBuffer floats = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        for (Run r : runs) {
            for (int done = 0; done < r.length; ) {
                int n = Math.min(CHUNK, r.length - done);
                floats.clear();
                floats.put(r.array, r.offset + done, n);
                out.write(chunk, 0, n * Float.BYTES);
                done += n;
            }
        }
    }
}
