package dev.lacuna.benchmarks;

import dev.lacuna.core.Model;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.runtime.CompiledModel;
import dev.lacuna.runtime.KernelChoice;
import dev.lacuna.runtime.RecurrentState;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
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
 * One token step of the demo LSTM (testdata/demo, 2x256, embedding 64): the runtime with automatic and forced-dense
 * kernels, and the trainer's ND4J network at batch 1. Pruned variants are cut from the dense model by one-shot
 * per-tensor magnitude pruning: latency depends on where the zeros are, not on how well the model was trained.
 * The model path comes from {@code -Dlacuna.demo=FILE} (tools/bench-kernels.sh sets it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TokenStepBenchmark {
    /** Named apart from the kernel benchmarks' {@code sparsity} so that one JMH run can set them separately. */
    @Param({"0.0", "0.9", "0.95"})
    public double modelSparsity;

    /** Threads per product for the runtime and OpenBLAS. */
    @Param({"1"})
    public int threads;

    CompiledModel auto;
    CompiledModel dense;
    RecurrentState autoState;
    RecurrentState denseState;
    float[] logits;
    CharRnnNetwork network;
    RnnState nd4jState;
    int token;
    int vocab;

    @Setup(Level.Trial)
    public void setUp() {
        Model model = ModelCheckpoint.load(Path.of(System.getProperty("lacuna.demo",
                "testdata/demo/lstm-dense.safetensors")));
        pruneByMagnitude(model, modelSparsity);
        auto = CompiledModel.of(model, KernelChoice.AUTO, threads);
        dense = CompiledModel.of(model, KernelChoice.DENSE, threads);
        Nd4j.factory().blas().setMaxThreads(threads);
        autoState = auto.newState();
        denseState = dense.newState();
        vocab = model.architecture().vocabSize();
        logits = new float[vocab];
        ParameterStore store = new ParameterStore(model);
        network = new CharRnnNetwork(model.architecture(), store);
        nd4jState = network.zeroState(1);
    }

    static void pruneByMagnitude(Model model, double sparsity) {
        if (sparsity == 0) {
            return;
        }
        for (TensorSpec spec : model.prunable(false)) {
            float[] w = model.tensor(spec.name()).data();
            float[] magnitudes = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                magnitudes[i] = Math.abs(w[i]);
            }
            Arrays.sort(magnitudes);
            float cut = magnitudes[(int) Math.min(w.length - 1, Math.floor(sparsity * w.length))];
            for (int i = 0; i < w.length; i++) {
                if (Math.abs(w[i]) < cut) {
                    w[i] = 0f;
                }
            }
        }
    }

    private int nextToken() {
        token = (token + 7) % vocab;
        return token;
    }

    @Benchmark
    public float[] runtimeAuto() {
        auto.step(autoState, nextToken(), logits);
        return logits;
    }

    @Benchmark
    public float[] runtimeDense() {
        dense.step(denseState, nextToken(), logits);
        return logits;
    }

    @Benchmark
    public double nd4j() {
        return network.forward(new int[][] {{nextToken()}}, new int[][] {{-1}}, nd4jState, false);
    }
}
