package dev.lacuna.train;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Hand-run timing of one full training step as {@link Trainer} runs it (forward, backward, clipping at 5, Adam,
 * re-masking) at the speed target's shape: 83 symbols, embedding 64, 2 layers of 256, batch 32, sequence 100. Not a
 * test: timings are never asserted.
 *
 * <p>Prints the median wall time and the median CPU time of the calling thread per step. With one BLAS and one
 * OpenMP thread all work runs on that thread, so its CPU time hardly changes when other processes take the cores;
 * {@code tools/pytorch/bench_train_step.py} reports the same measure for PyTorch. It uses only API that predates the
 * speed work, so it can time an older build too:
 * {@code OMP_NUM_THREADS=1 java -cp <test-classes>:<lacuna.jar> dev.lacuna.train.TrainingStepCpuBenchmark lstm 8}.
 */
public final class TrainingStepCpuBenchmark {
    private TrainingStepCpuBenchmark() {
    }

    public static void main(String[] args) {
        String cell = args.length > 0 ? args[0] : "lstm";
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int vocab = 83;
        int batch = 32;
        int time = 100;
        int[] symbols = new int[vocab];
        for (int i = 0; i < vocab; i++) {
            symbols[i] = 0x100 + i;
        }
        Architecture arch = new Architecture(CellType.parse("cell", cell), vocab, 64, 256, 2, false,
                RnnActivation.TANH, true);
        ParameterStore store = new ParameterStore(Model.initialize(arch, new Vocabulary(symbols), 1));
        CharRnnNetwork net = new CharRnnNetwork(arch, store);
        Optimizer adam = Optimizer.create(OptimizerKind.ADAM, store.params(), 0.9);
        SplittableRandom random = new SplittableRandom(2);
        RnnState state = net.zeroState(batch);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] wall = new double[steps];
        double[] cpu = new double[steps];
        int warmup = 3;
        for (int s = 0; s < warmup + steps; s++) {
            int[][] inputs = new int[batch][time];
            int[][] targets = new int[batch][time];
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < time; t++) {
                    inputs[b][t] = random.nextInt(vocab);
                    targets[b][t] = random.nextInt(vocab);
                }
            }
            long wallStart = System.nanoTime();
            long cpuStart = threads.getCurrentThreadCpuTime();
            net.forward(inputs, targets, state, true);
            net.backward(1.0 / net.countedTargets());
            Optimizer.clipByGlobalNorm(store.grads(), 5);
            adam.step(store.params(), store.grads(), 2e-3);
            store.applyMask();
            if (s >= warmup) {
                wall[s - warmup] = (System.nanoTime() - wallStart) / 1e6;
                cpu[s - warmup] = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e6;
            }
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        System.out.printf(Locale.ROOT, "{\"cell\": \"%s\", \"ms_per_step_median\": %.1f, "
                + "\"thread_cpu_ms_per_step_median\": %.1f}%n", cell, wall[steps / 2], cpu[steps / 2]);
    }
}
