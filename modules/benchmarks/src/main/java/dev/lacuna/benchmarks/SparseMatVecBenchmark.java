package dev.lacuna.benchmarks;

import dev.lacuna.runtime.KernelChoice;
import dev.lacuna.runtime.MatVec;
import java.util.concurrent.TimeUnit;
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
 * The runtime's sparse kernel (compressed rows, 16-bit indices) on the paper's layer sizes (N17 GEMM table: RNN
 * 1760², 2560², 3072² and a GRU's 3H×H at H = 2560), at the sparsities of interest and batch 1, 4 and 16.
 * {@link DenseMatVecBenchmark} times the dense alternatives on the same shapes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SparseMatVecBenchmark {
    @Param({"1760x1760", "2560x2560", "3072x3072", "7680x2560"})
    public String shape;

    @Param({"0.8", "0.9", "0.95", "0.98"})
    public double sparsity;

    @Param({"1", "4", "16"})
    public int batch;

    /** Threads per product (the runtime splits large products by rows). */
    @Param({"1"})
    public int threads;

    MatVec matrix;
    float[] x;
    float[] y;

    @Setup(Level.Trial)
    public void setUp() {
        int[] s = Matrices.shape(shape);
        matrix = MatVec.of(Matrices.weights(s[0], s[1], sparsity, 1), null, s[0], s[1], KernelChoice.SPARSE,
                threads);
        x = Matrices.vector(s[1] * batch, 2);
        y = new float[s[0] * batch];
    }

    @Benchmark
    public float[] sparse() {
        matrix.multiplyAdd(x, y, batch);
        return y;
    }
}
