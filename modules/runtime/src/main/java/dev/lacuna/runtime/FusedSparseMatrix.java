package dev.lacuna.runtime;

/**
 * A recurrent layer's input weights {@code W_ih} ({@code rows × inputCols}) and recurrent weights {@code W_hh}
 * ({@code rows × hiddenCols}) as one sparse matrix over the concatenated vector {@code [x; h]}: compressed rows with
 * 16-bit column indices, each row's input non-zeros first, then its recurrent ones (columns offset by
 * {@code inputCols}), and a second row pointer where the recurrent part begins ("row-split CSR").
 *
 * <p>Why: a token step then runs one product over rows about twice as long instead of two, so the per-row cost
 * (loading the row bounds, summing eight partial sums, updating the output) is paid once, and the input projection
 * needs no buffer of its own (measured 0.45 → 0.40 ns per non-zero from 1024 x 256 to 1024 x 512 rows at 90%
 * sparsity). Scoring windows still need the parts apart (the input product runs batched over the window, the
 * recurrent one step by step): the split pointer gives both without storing the weights twice.
 *
 * <p>Immutable and thread-safe.
 */
final class FusedSparseMatrix {
    private final int rows;
    private final int inputCols;
    private final int hiddenCols;
    private final int[] rowStart;
    /** {@code split[r]}: index of row r's first recurrent non-zero (= rowStart[r + 1] when it has none). */
    private final int[] split;
    private final float[] values;
    private final char[] columns;
    /** Parts for whole-row products (the token step), balanced by their non-zeros. */
    private final RowSplit rowSplit;
    /** Parts for the input part alone (scoring windows), balanced by the input non-zeros. */
    private final RowSplit inputSplit;
    /** Parts for the recurrent part alone, balanced by the recurrent non-zeros. */
    private final RowSplit recurrentSplit;

    private FusedSparseMatrix(int rows, int inputCols, int hiddenCols, int[] rowStart, int[] split, float[] values,
            char[] columns, RowThreads threads) {
        this.rows = rows;
        this.inputCols = inputCols;
        this.hiddenCols = hiddenCols;
        this.rowStart = rowStart;
        this.split = split;
        this.values = values;
        this.columns = columns;
        long[] inputBefore = new long[rows + 1];
        for (int r = 0; r < rows; r++) {
            inputBefore[r + 1] = inputBefore[r] + split[r] - rowStart[r];
        }
        this.rowSplit = RowSplit.compressed(threads, rowStart);
        this.inputSplit = new RowSplit(threads, rows, r -> inputBefore[r]);
        this.recurrentSplit = new RowSplit(threads, rows, r -> rowStart[r] - inputBefore[r]);
    }

    /** Whether {@code [x; h]} is narrow enough for 16-bit column indices (every character model is). */
    static boolean fits(int inputCols, int hiddenCols) {
        return (long) inputCols + hiddenCols <= 1 << 16;
    }

    /**
     * Builds the fused matrix from two row-major matrices with the same number of rows; masks may be null (every
     * weight counts), zeros are dropped.
     */
    static FusedSparseMatrix of(float[] input, boolean[] inputKeep, float[] recurrent, boolean[] recurrentKeep,
            int rows, int inputCols, int hiddenCols, RowThreads threads) {
        if (!fits(inputCols, hiddenCols) || (long) rows * inputCols != input.length
                || (long) rows * hiddenCols != recurrent.length) {
            throw new IllegalArgumentException("cannot fuse " + rows + " x " + inputCols + " and " + rows + " x "
                    + hiddenCols + " matrices of " + input.length + " and " + recurrent.length + " weights");
        }
        int count = 0;
        for (int i = 0; i < input.length; i++) {
            count += SparseMatrix.kept(input, inputKeep, i) ? 1 : 0;
        }
        for (int i = 0; i < recurrent.length; i++) {
            count += SparseMatrix.kept(recurrent, recurrentKeep, i) ? 1 : 0;
        }
        int[] rowStart = new int[rows + 1];
        int[] split = new int[rows];
        float[] values = new float[count];
        char[] columns = new char[count];
        int k = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < inputCols; c++) {
                int i = r * inputCols + c;
                if (SparseMatrix.kept(input, inputKeep, i)) {
                    values[k] = input[i];
                    columns[k++] = (char) c;
                }
            }
            split[r] = k;
            for (int c = 0; c < hiddenCols; c++) {
                int i = r * hiddenCols + c;
                if (SparseMatrix.kept(recurrent, recurrentKeep, i)) {
                    values[k] = recurrent[i];
                    columns[k++] = (char) (inputCols + c);
                }
            }
            rowStart[r + 1] = k;
        }
        return new FusedSparseMatrix(rows, inputCols, hiddenCols, rowStart, split, values, columns, threads);
    }

    int rows() {
        return rows;
    }

    int inputCols() {
        return inputCols;
    }

    long nonZeros() {
        return values.length;
    }

    /** Parts a whole-row product is split into (see {@link RowSplit}). */
    int parts() {
        return rowSplit.parts(1);
    }

    /** Values and indices (6 bytes per non-zero) plus both row pointers. */
    long bytes() {
        return 6L * values.length + 4L * rowStart.length + 4L * split.length;
    }

    /** {@code y += W_ih x + W_hh h} for one vector, {@code xh = [x; h]} ({@code inputCols + hiddenCols} values). */
    void multiplyAdd(float[] xh, float[] y) {
        check(xh, inputCols + hiddenCols, y, 1);
        rowSplit.run(1, (from, to) -> {
            final float[] v = values;
            final char[] col = columns;
            final int[] start = rowStart;
            for (int r = from; r < to; r++) {
                y[r] += SparseMatrix.dot(v, col, start[r], start[r + 1], xh);
            }
        });
    }

    /** {@code y += W_ih x} for {@code batch} interleaved vectors (the layout of {@link MatVec}). */
    void multiplyAddInput(float[] x, float[] y, int batch) {
        check(x, inputCols * batch, y, batch);
        inputSplit.run(batch, (from, to) -> {
            if (batch == 1) {
                for (int r = from; r < to; r++) {
                    y[r] += SparseMatrix.dot(values, columns, rowStart[r], split[r], x);
                }
            } else {
                for (int r = from; r < to; r++) {
                    SparseMatrix.addRowBatch(values, columns, rowStart[r], split[r], x, batch, y, r * batch);
                }
            }
        });
    }

    /** {@code y += W_hh h} for one vector held at {@code xh[inputCols ..]} (the first part of xh is not read). */
    void multiplyAddRecurrent(float[] xh, float[] y) {
        check(xh, inputCols + hiddenCols, y, 1);
        recurrentSplit.run(1, (from, to) -> {
            final float[] v = values;
            final char[] col = columns;
            final int[] start = rowStart;
            final int[] mid = split;
            for (int r = from; r < to; r++) {
                y[r] += SparseMatrix.dot(v, col, mid[r], start[r + 1], xh);
            }
        });
    }

    private void check(float[] x, long xLength, float[] y, int batch) {
        if (batch < 1 || x.length < xLength || y.length < (long) rows * batch) {
            throw new IllegalArgumentException("a fused " + rows + " x (" + inputCols + " + " + hiddenCols
                    + ") product with batch " + batch + " needs x of " + xLength + " and y of " + (long) rows * batch
                    + ", got " + x.length + " and " + y.length);
        }
    }
}
