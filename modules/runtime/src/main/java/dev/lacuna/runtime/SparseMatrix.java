package dev.lacuna.runtime;

/**
 * Compressed sparse rows with 16-bit column indices when the matrix has at most 65,536 columns (every layer of a
 * character model), 32-bit otherwise. Per non-zero that is 6 bytes instead of 8: the kernel is bound by the bytes
 * it streams, so the narrower index is a direct saving (platform-notes.md, "Sparse kernels in plain Java").
 *
 * <p>The JIT vectorises neither the gather {@code x[col[k]]} nor a float reduction, so the kernels are scalar and
 * are tuned for instruction-level parallelism instead: several independent partial sums per row. Matrices wider
 * than 16 bits (never a character model's) take a plain loop.
 */
final class SparseMatrix implements MatVec {
    private final int rows;
    private final int cols;
    private final int[] rowStart;
    private final float[] values;
    /** Column indices when {@code cols <= 65536}, else null. {@code char} is Java's unsigned 16-bit type. */
    private final char[] narrow;
    /** Column indices when {@code cols > 65536}, else null. */
    private final int[] wide;
    private final RowSplit split;

    private SparseMatrix(int rows, int cols, int[] rowStart, float[] values, char[] narrow, int[] wide,
            RowThreads threads) {
        this.rows = rows;
        this.cols = cols;
        this.rowStart = rowStart;
        this.values = values;
        this.narrow = narrow;
        this.wide = wide;
        this.split = RowSplit.compressed(threads, rowStart);
    }

    static SparseMatrix of(float[] rowMajor, boolean[] keep, int rows, int cols, RowThreads threads) {
        int[] rowStart = new int[rows + 1];
        int count = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                if (kept(rowMajor, keep, base + c)) {
                    count++;
                }
            }
            rowStart[r + 1] = count;
        }
        float[] values = new float[count];
        boolean narrowIndex = cols <= 1 << 16;
        char[] narrow = narrowIndex ? new char[count] : null;
        int[] wide = narrowIndex ? null : new int[count];
        int k = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                if (kept(rowMajor, keep, base + c)) {
                    values[k] = rowMajor[base + c];
                    if (narrowIndex) {
                        narrow[k] = (char) c;
                    } else {
                        wide[k] = c;
                    }
                    k++;
                }
            }
        }
        return new SparseMatrix(rows, cols, rowStart, values, narrow, wide, threads);
    }

    /** Whether {@code choice} stores these weights sparse; see {@link MatVec#SPARSE_BELOW_DENSITY}. */
    static boolean chosen(float[] rowMajor, boolean[] keep, KernelChoice choice) {
        return switch (choice) {
            case SPARSE -> true;
            case DENSE -> false;
            case AUTO -> {
                long nonZeros = 0;
                for (int i = 0; i < rowMajor.length; i++) {
                    if (kept(rowMajor, keep, i)) {
                        nonZeros++;
                    }
                }
                yield rowMajor.length > 0 && nonZeros < MatVec.SPARSE_BELOW_DENSITY * rowMajor.length;
            }
        };
    }

    static boolean kept(float[] w, boolean[] keep, int i) {
        return w[i] != 0f && (keep == null || keep[i]);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public long nonZeros() {
        return values.length;
    }

    @Override
    public long bytes() {
        long index = narrow != null ? 2L * narrow.length : 4L * wide.length;
        return 4L * values.length + index + 4L * rowStart.length;
    }

    /** Parts a product of {@code batch} vectors is split into (see {@link RowSplit}). */
    int parts(int batch) {
        return split.parts(batch);
    }

    @Override
    public boolean sparse() {
        return true;
    }

    @Override
    public void multiplyAdd(float[] x, float[] y) {
        checkLengths(x, y, 1);
        if (narrow != null) {
            split.run(1, (from, to) -> multiplyNarrow(x, y, from, to));
        } else {
            split.run(1, (from, to) -> multiplyWide(x, y, from, to));
        }
    }

    /**
     * Eight partial sums per row: a float multiply-add has a latency of about four cycles and two issue ports, so
     * eight independent chains keep both busy (measured 2.2x faster than four chains at 1760² and 2560², 90-95%
     * sparse; 1.13x at 1024 x 256). The batch-1 loop is written out separately from {@link #rowDot} so that the
     * index needs no stride arithmetic.
     */
    private void multiplyNarrow(float[] x, float[] y, int fromRow, int toRow) {
        final float[] v = values;
        final char[] col = narrow;
        final int[] start = rowStart;
        for (int r = fromRow; r < toRow; r++) {
            int k = start[r];
            final int end = start[r + 1];
            float s0 = 0f;
            float s1 = 0f;
            float s2 = 0f;
            float s3 = 0f;
            float s4 = 0f;
            float s5 = 0f;
            float s6 = 0f;
            float s7 = 0f;
            for (; k + 7 < end; k += 8) {
                s0 += v[k] * x[col[k]];
                s1 += v[k + 1] * x[col[k + 1]];
                s2 += v[k + 2] * x[col[k + 2]];
                s3 += v[k + 3] * x[col[k + 3]];
                s4 += v[k + 4] * x[col[k + 4]];
                s5 += v[k + 5] * x[col[k + 5]];
                s6 += v[k + 6] * x[col[k + 6]];
                s7 += v[k + 7] * x[col[k + 7]];
            }
            for (; k + 1 < end; k += 2) {
                s0 += v[k] * x[col[k]];
                s1 += v[k + 1] * x[col[k + 1]];
            }
            if (k < end) {
                s0 += v[k] * x[col[k]];
            }
            y[r] += ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        }
    }

    /**
     * Sum of {@code v[k] · x[col[k]]} for k in [from, end): one row, or one part of a row, of a batch-1 product
     * (used by {@link FusedSparseMatrix}). The same eight partial sums as {@link #multiplyNarrow}, which keeps its
     * own copy on purpose: this method compiles to more machine code than C2 inlines ("already compiled into a big
     * method"), and calling it once per row made a GRU token 10% slower. For the fused matrix's longer rows the
     * call measured faster than one shared row-range loop with the bounds read from two arrays (48 against 55 µs
     * per 90% LSTM token).
     */
    static float dot(float[] v, char[] col, int from, int end, float[] x) {
        int k = from;
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        float s4 = 0f;
        float s5 = 0f;
        float s6 = 0f;
        float s7 = 0f;
        for (; k + 7 < end; k += 8) {
            s0 += v[k] * x[col[k]];
            s1 += v[k + 1] * x[col[k + 1]];
            s2 += v[k + 2] * x[col[k + 2]];
            s3 += v[k + 3] * x[col[k + 3]];
            s4 += v[k + 4] * x[col[k + 4]];
            s5 += v[k + 5] * x[col[k + 5]];
            s6 += v[k + 6] * x[col[k + 6]];
            s7 += v[k + 7] * x[col[k + 7]];
        }
        for (; k + 1 < end; k += 2) {
            s0 += v[k] * x[col[k]];
            s1 += v[k + 1] * x[col[k + 1]];
        }
        if (k < end) {
            s0 += v[k] * x[col[k]];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /**
     * Sum of {@code v[k] · x[col[k] · stride + lane]} over one row: one vector of an interleaved batch. Eight
     * partial sums as in the batch-1 kernel.
     */
    private static float rowDot(float[] v, char[] col, int k, int end, float[] x, int stride, int lane) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        float s4 = 0f;
        float s5 = 0f;
        float s6 = 0f;
        float s7 = 0f;
        for (; k + 7 < end; k += 8) {
            s0 += v[k] * x[col[k] * stride + lane];
            s1 += v[k + 1] * x[col[k + 1] * stride + lane];
            s2 += v[k + 2] * x[col[k + 2] * stride + lane];
            s3 += v[k + 3] * x[col[k + 3] * stride + lane];
            s4 += v[k + 4] * x[col[k + 4] * stride + lane];
            s5 += v[k + 5] * x[col[k + 5] * stride + lane];
            s6 += v[k + 6] * x[col[k + 6] * stride + lane];
            s7 += v[k + 7] * x[col[k + 7] * stride + lane];
        }
        for (; k + 1 < end; k += 2) {
            s0 += v[k] * x[col[k] * stride + lane];
            s1 += v[k + 1] * x[col[k + 1] * stride + lane];
        }
        if (k < end) {
            s0 += v[k] * x[col[k] * stride + lane];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    private void multiplyWide(float[] x, float[] y, int fromRow, int toRow) {
        final float[] v = values;
        final int[] col = wide;
        final int[] start = rowStart;
        for (int r = fromRow; r < toRow; r++) {
            int k = start[r];
            final int end = start[r + 1];
            float s0 = 0f;
            float s1 = 0f;
            for (; k + 1 < end; k += 2) {
                s0 += v[k] * x[col[k]];
                s1 += v[k + 1] * x[col[k + 1]];
            }
            for (; k < end; k++) {
                s0 += v[k] * x[col[k]];
            }
            y[r] += s0 + s1;
        }
    }

    @Override
    public void multiplyAdd(float[] x, float[] y, int batch) {
        if (batch == 1) {
            multiplyAdd(x, y);
            return;
        }
        checkLengths(x, y, batch);
        if (narrow == null) {
            split.run(batch, (from, to) -> multiplyWideBatch(x, y, batch, from, to));
            return;
        }
        split.run(batch, (from, to) -> {
            for (int r = from; r < to; r++) {
                addRowBatch(values, narrow, rowStart[r], rowStart[r + 1], x, batch, y, r * batch);
            }
        });
    }

    /**
     * {@code y[out + b] += Σ v[k] · x[col[k] · batch + b]} over k in [from, end), for every vector b of an
     * interleaved batch: one row of a batch product.
     */
    static void addRowBatch(float[] v, char[] col, int from, int end, float[] x, int batch, float[] y, int out) {
        int lane = 0;
        // Eight vectors at a time: each non-zero and its index are loaded once for eight multiply-adds into
        // eight independent sums (about 2x faster per vector than a loop over an accumulator array).
        for (; lane + 7 < batch; lane += 8) {
            float a0 = 0f;
            float a1 = 0f;
            float a2 = 0f;
            float a3 = 0f;
            float a4 = 0f;
            float a5 = 0f;
            float a6 = 0f;
            float a7 = 0f;
            for (int k = from; k < end; k++) {
                final float w = v[k];
                final int i = col[k] * batch + lane;
                a0 += w * x[i];
                a1 += w * x[i + 1];
                a2 += w * x[i + 2];
                a3 += w * x[i + 3];
                a4 += w * x[i + 4];
                a5 += w * x[i + 5];
                a6 += w * x[i + 6];
                a7 += w * x[i + 7];
            }
            y[out + lane] += a0;
            y[out + lane + 1] += a1;
            y[out + lane + 2] += a2;
            y[out + lane + 3] += a3;
            y[out + lane + 4] += a4;
            y[out + lane + 5] += a5;
            y[out + lane + 6] += a6;
            y[out + lane + 7] += a7;
        }
        for (; lane + 3 < batch; lane += 4) {
            float a0 = 0f;
            float a1 = 0f;
            float a2 = 0f;
            float a3 = 0f;
            for (int k = from; k < end; k++) {
                final float w = v[k];
                final int i = col[k] * batch + lane;
                a0 += w * x[i];
                a1 += w * x[i + 1];
                a2 += w * x[i + 2];
                a3 += w * x[i + 3];
            }
            y[out + lane] += a0;
            y[out + lane + 1] += a1;
            y[out + lane + 2] += a2;
            y[out + lane + 3] += a3;
        }
        for (; lane < batch; lane++) {
            y[out + lane] += rowDot(v, col, from, end, x, batch, lane);
        }
    }

    private void multiplyWideBatch(float[] x, float[] y, int batch, int fromRow, int toRow) {
        final float[] v = values;
        final int[] col = wide;
        final int[] start = rowStart;
        for (int r = fromRow; r < toRow; r++) {
            for (int lane = 0; lane < batch; lane++) {
                float s = 0f;
                for (int k = start[r], end = start[r + 1]; k < end; k++) {
                    s += v[k] * x[col[k] * batch + lane];
                }
                y[r * batch + lane] += s;
            }
        }
    }

    private void checkLengths(float[] x, float[] y, int batch) {
        if (batch < 1 || x.length < (long) cols * batch || y.length < (long) rows * batch) {
            throw new IllegalArgumentException("a " + rows + " x " + cols + " product with batch " + batch
                    + " needs x of " + (long) cols * batch + " and y of " + (long) rows * batch + ", got "
                    + x.length + " and " + y.length);
        }
    }
}
