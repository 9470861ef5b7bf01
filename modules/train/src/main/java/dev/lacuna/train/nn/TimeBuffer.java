package dev.lacuna.train.nn;

import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A time-major buffer {@code [time, rows, cols]} whose per-step row blocks are handed out as contiguous 2-D views.
 * ND4J takes a slow generic path on strided views (platform-notes.md), so every view the recurrence touches is a
 * contiguous block; views are cached because creating one costs about as much as a small op.
 */
final class TimeBuffer {
    final INDArray all;
    final int time;
    final int rows;
    final int cols;
    private final DataType dtype;
    private final Map<Long, INDArray> views = new HashMap<>();

    TimeBuffer(DataType dtype, int time, int rows, int cols) {
        this.dtype = dtype;
        this.time = time;
        this.rows = rows;
        this.cols = cols;
        this.all = Nd4j.create(dtype, time, rows, cols);
    }

    /** All rows of step {@code t}: {@code [rows, cols]}. */
    INDArray at(int t) {
        return rows(t, 0, rows);
    }

    /** Rows {@code first .. first+count-1} of step {@code t}: {@code [count, cols]}. */
    INDArray rows(int t, int first, int count) {
        long key = ((long) t * (rows + 1) + first) * (rows + 1) + count;
        return views.computeIfAbsent(key, k -> Nd4j.create(all.data(), new long[] {count, cols},
                new long[] {cols, 1}, ((long) t * rows + first) * cols, 'c', dtype));
    }
}
