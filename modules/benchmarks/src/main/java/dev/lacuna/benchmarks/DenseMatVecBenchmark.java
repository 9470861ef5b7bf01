package dev.lacuna.benchmarks;

import dev.lacuna.runtime.KernelChoice;
import dev.lacuna.runtime.MatVec;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Dense alternatives to the sparse kernel on the same shapes: a plain row-by-row Java loop, the runtime's dense
 * kernel (column-major, auto-vectorised by the JIT; it equals a Vector API gemv, platform-notes.md, so no separate
 * Vector API variant is kept), and ND4J/OpenBLAS gemv (batch 1, rank-1 vectors so it is a true gemv) or gemm.
 * Dense cost does not depend on the values, so there is no sparsity parameter.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DenseMatVecBenchmark {
    @Param({"1760x1760", "2560x2560", "3072x3072", "7680x2560"})
    public String shape;

    @Param({"1", "4", "16"})
    public int batch;

    /** Threads per product for the runtime's dense kernel and OpenBLAS; the plain loop stays on one. */
    @Param({"1"})
    public int threads;

    int rows;
    int cols;
    float[] rowMajor;
    MatVec dense;
    float[] x;
    float[] y;
    INDArray w;
    INDArray xs;
    INDArray ys;

    @Setup(Level.Trial)
    public void setUp() {
        int[] s = Matrices.shape(shape);
        rows = s[0];
        cols = s[1];
        rowMajor = Matrices.weights(rows, cols, 0.0, 1);
        dense = MatVec.of(rowMajor, null, rows, cols, KernelChoice.DENSE, threads);
        Nd4j.factory().blas().setMaxThreads(threads);
        x = Matrices.vector(cols * batch, 2);
        y = new float[rows * batch];
        w = Nd4j.create(rowMajor, new long[] {rows, cols}, 'c');
        if (batch == 1) {
            xs = Nd4j.create(x, new long[] {cols}, 'c');
            ys = Nd4j.create(DataType.FLOAT, rows);
        } else {
            xs = Nd4j.create(x, new long[] {cols, batch}, 'c');
            ys = Nd4j.create(DataType.FLOAT, rows, batch);
        }
    }

    /** The obvious loop: one dot product per row (the JIT does not vectorise the float reduction). */
    @Benchmark
    public float[] plainLoop() {
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int b = 0; b < batch; b++) {
                float s = 0f;
                for (int c = 0; c < cols; c++) {
                    s += rowMajor[base + c] * x[c * batch + b];
                }
                y[r * batch + b] += s;
            }
        }
        return y;
    }

    @Benchmark
    public float[] runtimeDense() {
        dense.multiplyAdd(x, y, batch);
        return y;
    }

    @Benchmark
    public INDArray nd4j() {
        if (batch == 1) {
            Nd4j.exec(new Mmul(w, xs, ys, null));
        } else {
            Nd4j.gemm(w, xs, ys, false, false, 1.0, 0.0);
        }
        return ys;
    }
}
