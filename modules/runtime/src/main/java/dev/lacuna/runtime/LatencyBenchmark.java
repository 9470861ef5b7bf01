package dev.lacuna.runtime;

import dev.lacuna.core.InvalidOptionException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Per-token latency of several implementations of the same model, measured side by side in one run.
 *
 * <p>Every round runs each contender over the same token sequence from a fresh state; the contenders take turns
 * within a round (round-robin, with the starting contender rotating), so that a burst of load from other
 * processes on a shared machine hits all of them alike and their ratios stay meaningful. Warm-up rounds, run the
 * same way, let the JIT compile every path before anything is recorded. The figure reported is the median over
 * rounds of the mean time per token in a round.
 */
public final class LatencyBenchmark {

    /** One implementation under test: steps a model over tokens from a resettable state. */
    public interface Stepper {
        /** Back to the start-of-sequence state. */
        void reset();

        /** Reads one token (the next-character logits are computed and may be discarded). */
        void step(int token);
    }

    /** A named contender. */
    public record Contender(String name, Stepper stepper) {
    }

    /**
     * @param name              the contender's name
     * @param medianMsPerToken  median over recorded rounds of the milliseconds per token
     * @param tokensPerSecond   {@code 1000 / medianMsPerToken}
     * @param roundMsPerToken   every recorded round's milliseconds per token, in round order
     */
    public record Result(String name, double medianMsPerToken, double tokensPerSecond, double[] roundMsPerToken) {
    }

    private LatencyBenchmark() {
    }

    /** A stepper over a compiled model with its own state and logits buffer. */
    public static Stepper stepper(CompiledModel model) {
        RecurrentState state = model.newState();
        float[] logits = new float[model.architecture().vocabSize()];
        return new Stepper() {
            @Override
            public void reset() {
                state.reset();
            }

            @Override
            public void step(int token) {
                model.step(state, token, logits);
            }
        };
    }

    /**
     * Runs {@code warmupRounds + rounds} rounds and returns one result per contender, in the given order.
     *
     * @throws InvalidOptionException when there are no tokens or no recorded rounds
     */
    public static List<Result> run(List<Contender> contenders, int[] tokens, int warmupRounds, int rounds) {
        if (tokens.length == 0) {
            throw new InvalidOptionException("--tokens", "must be positive");
        }
        if (rounds < 1 || warmupRounds < 0) {
            throw new InvalidOptionException("--rounds", "needs at least one recorded round, found " + rounds);
        }
        int n = contenders.size();
        double[][] perRound = new double[n][rounds];
        for (int round = 0; round < warmupRounds + rounds; round++) {
            for (int turn = 0; turn < n; turn++) {
                int c = (round + turn) % n;
                double ms = timeOneRound(contenders.get(c).stepper(), tokens);
                if (round >= warmupRounds) {
                    perRound[c][round - warmupRounds] = ms / tokens.length;
                }
            }
        }
        List<Result> results = new ArrayList<>(n);
        for (int c = 0; c < n; c++) {
            double median = median(perRound[c]);
            results.add(new Result(contenders.get(c).name(), median, 1000.0 / median, perRound[c]));
        }
        return results;
    }

    private static double timeOneRound(Stepper stepper, int[] tokens) {
        stepper.reset();
        long start = System.nanoTime();
        for (int token : tokens) {
            stepper.step(token);
        }
        return (System.nanoTime() - start) / 1e6;
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
