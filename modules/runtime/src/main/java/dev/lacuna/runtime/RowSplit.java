package dev.lacuna.runtime;

import java.util.function.IntToLongFunction;

/**
 * How one matrix's rows are divided among threads: parts of equal work (non-zeros for a sparse matrix, entries for a
 * dense one), and only as many parts as leave each at least {@link #MIN_WORK_PER_PART} units, so that small
 * products, where handing over a part would cost more than it saves, stay on the calling thread.
 */
final class RowSplit {
    /**
     * Least work per part, in sparse non-zeros (about 0.4 ns each, so about 3 µs): handing a part to an awake
     * helper costs about a microsecond. Measured on the demo LSTM's token at 2 threads: 4,096 made the dense model
     * 1.6x slower, 8,192 took the 95% model from 28-30 to 21-27 µs and left the 90% and dense ones as they were
     * at 16,384 (docs/runtime.md, "Threads").
     */
    static final long MIN_WORK_PER_PART = 8_192;

    private final RowThreads threads;
    private final int rows;
    private final long work;
    /** {@code bounds[p]}: row bounds for {@code p} parts, p = 1..threads. */
    private final int[][] bounds;

    /**
     * @param workBefore cumulative work before row r (r = 0..rows), in non-zero units: non-decreasing, 0 at row 0
     */
    RowSplit(RowThreads threads, int rows, IntToLongFunction workBefore) {
        this.threads = threads;
        this.rows = rows;
        this.work = workBefore.applyAsLong(rows);
        this.bounds = new int[threads.threads() + 1][];
        for (int parts = 1; parts <= threads.threads(); parts++) {
            int[] b = new int[parts + 1];
            int r = 0;
            for (int p = 1; p < parts; p++) {
                long target = work * p / parts;
                while (r < rows && workBefore.applyAsLong(r) < target) {
                    r++;
                }
                b[p] = r;
            }
            b[parts] = rows;
            bounds[parts] = b;
        }
    }

    /** A split for a matrix whose rows all cost the same. */
    static RowSplit uniform(RowThreads threads, int rows, long workPerRow) {
        return new RowSplit(threads, rows, r -> r * workPerRow);
    }

    /** A split for compressed rows: {@code rowStart[r]} non-zeros come before row r. */
    static RowSplit compressed(RowThreads threads, int[] rowStart) {
        return new RowSplit(threads, rowStart.length - 1, r -> rowStart[r]);
    }

    /** Parts a product of {@code batch} vectors is split into. */
    int parts(int batch) {
        return (int) Math.max(1, Math.min(threads.threads(), work * batch / MIN_WORK_PER_PART));
    }

    /** Runs {@code task} over all rows, split for a product of {@code batch} vectors. */
    void run(int batch, RowThreads.RowRange task) {
        int parts = parts(batch);
        if (parts == 1) {
            task.run(0, rows);
        } else {
            threads.run(bounds[parts], task);
        }
    }

    int[] bounds(int parts) {
        return bounds[parts].clone();
    }
}
