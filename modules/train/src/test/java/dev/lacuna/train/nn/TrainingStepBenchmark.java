package dev.lacuna.train.nn;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Vocabulary;
import java.util.SplittableRandom;

/**
 * Hand-run timing of one training step (forward + backward, no optimizer) at the brief's reference size: vocabulary
 * 80, embedding 64, hidden 256, 2 layers, batch 32, sequence 100. Not a test: timings are never asserted.
 *
 * <p>Run with {@code OMP_NUM_THREADS=1 java -cp <test classpath> dev.lacuna.train.nn.TrainingStepBenchmark [cells]
 * [seq] [blasThreads]}.
 */
public final class TrainingStepBenchmark {
    private TrainingStepBenchmark() {
    }

    public static void main(String[] args) {
        String cells = args.length > 0 ? args[0] : "lstm,gru,rnn";
        int time = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        if (args.length > 2) {
            org.nd4j.linalg.factory.Nd4j.factory().blas().setMaxThreads(Integer.parseInt(args[2]));
        }
        int batch = 32;
        int[] symbols = new int[80];
        for (int i = 0; i < symbols.length; i++) {
            symbols[i] = 0x100 + i;
        }
        Vocabulary vocabulary = new Vocabulary(symbols);
        for (String name : cells.split(",")) {
            Architecture arch = new Architecture(CellType.parse("cell", name), 80, 64, 256, 2, false,
                    RnnActivation.TANH, true);
            ParameterStore store = new ParameterStore(Model.initialize(arch, vocabulary, 1));
            CharRnnNetwork net = new CharRnnNetwork(arch, store);
            SplittableRandom random = new SplittableRandom(2);
            int[][] inputs = new int[batch][time];
            int[][] targets = new int[batch][time];
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < time; t++) {
                    inputs[b][t] = random.nextInt(80);
                    targets[b][t] = random.nextInt(80);
                }
            }
            RnnState state = net.zeroState(batch);
            int warmup = 3;
            int runs = 10;
            long forwardNanos = 0;
            long backwardNanos = 0;
            for (int i = 0; i < warmup + runs; i++) {
                long start = System.nanoTime();
                net.forward(inputs, targets, state, true);
                long middle = System.nanoTime();
                net.backward(1.0 / (batch * time));
                if (i >= warmup) {
                    forwardNanos += middle - start;
                    backwardNanos += System.nanoTime() - middle;
                }
            }
            System.out.printf("%s hidden 256 x2, batch %d, seq %d: %.1f ms/step (forward %.1f, backward %.1f)%n",
                    name, batch, time, (forwardNanos + backwardNanos) / 1e6 / runs, forwardNanos / 1e6 / runs,
                    backwardNanos / 1e6 / runs);
        }
    }
}
