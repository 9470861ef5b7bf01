package dev.lacuna.benchmarks;

import dev.lacuna.runtime.CompiledModel;
import dev.lacuna.runtime.KernelChoice;
import dev.lacuna.runtime.RecurrentState;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Thread-CPU time per token of {@link CompiledModel#step}: the figure to trust on a shared machine, where wall-clock
 * benchmarks (JMH, {@code lacuna bench}) wander with the load of other jobs, while the CPU time this thread spends
 * does not (docs/runtime.md, "Per-token latency work").
 *
 * <pre>
 *   java -cp modules/benchmarks/target/classes:modules/cli/target/lacuna.jar \
 *       dev.lacuna.benchmarks.TokenCpuProbe MODEL [ROUNDS] [TOKENS] [auto|sparse|dense] [THREADS]
 * </pre>
 *
 * Runs 20 warm-up rounds, then ROUNDS (default 20) rounds of TOKENS (default 2000) steps over a fixed token cycle,
 * and prints the median and minimum thread-CPU and wall time per token. With THREADS above 1 (default 1) the
 * helper threads' work is not in the calling thread's CPU time: compare wall times then.
 */
public final class TokenCpuProbe {
    private static final int WARMUP_ROUNDS = 20;

    private TokenCpuProbe() {
    }

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 5) {
            System.err.println("usage: TokenCpuProbe MODEL [ROUNDS] [TOKENS] [auto|sparse|dense] [THREADS]");
            System.exit(2);
        }
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 2000;
        KernelChoice choice = args.length > 3 ? KernelChoice.valueOf(args[3].toUpperCase(Locale.ROOT))
                : KernelChoice.AUTO;
        int threadCount = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        if (rounds < 1 || tokens < 1 || threadCount < 1) {
            System.err.println("ROUNDS, TOKENS and THREADS must be positive");
            System.exit(2);
        }
        CompiledModel model = CompiledModel.load(Path.of(args[0]), choice, threadCount);
        int vocab = model.architecture().vocabSize();
        RecurrentState state = model.newState();
        float[] logits = new float[vocab];
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] cpu = new double[rounds];
        double[] wall = new double[rounds];
        int token = 0;
        for (int r = -WARMUP_ROUNDS; r < rounds; r++) {
            long cpu0 = threads.getCurrentThreadCpuTime();
            long wall0 = System.nanoTime();
            for (int t = 0; t < tokens; t++) {
                token = (token + 7) % vocab; // visits every class when 7 and vocab are coprime, like TokenStepBenchmark
                model.step(state, token, logits);
            }
            if (r >= 0) {
                cpu[r] = (threads.getCurrentThreadCpuTime() - cpu0) / 1e3 / tokens;
                wall[r] = (System.nanoTime() - wall0) / 1e3 / tokens;
            }
        }
        Arrays.sort(cpu);
        Arrays.sort(wall);
        System.out.printf(Locale.ROOT, "%s (%s): thread-CPU median %.1f µs/token (min %.1f), wall median %.1f µs"
                + " (min %.1f); %d rounds x %d tokens%n", args[0], choice.name().toLowerCase(Locale.ROOT),
                cpu[rounds / 2], cpu[0], wall[rounds / 2], wall[0], rounds, tokens);
    }
}
