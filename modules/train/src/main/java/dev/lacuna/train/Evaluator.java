package dev.lacuna.train;

import dev.lacuna.core.Model;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;

/**
 * Held-out bits per character of a model on a sequence of ids: forward passes only, over contiguous streams
 * whose recurrent state carries from chunk to chunk, as in training.
 *
 * <p>Every position with a target is counted exactly once: the ids are cut into streams of ⌈m / batch⌉
 * positions, and a shorter remainder runs as a stream of its own rather than being padded, because padding
 * would feed invented characters into a bidirectional model's right-to-left state. The result depends only on
 * the model, the ids and the batch shape.
 */
public final class Evaluator {
    /** Default number of parallel streams. */
    public static final int DEFAULT_BATCH = 32;
    /** Default chunk length in characters. */
    public static final int DEFAULT_SEQ = 100;

    private static final double LN2 = Math.log(2);

    private Evaluator() {
    }

    /** Bits per character with {@link #DEFAULT_BATCH} streams and chunks of {@link #DEFAULT_SEQ}. */
    public static double bpc(Model model, int[] ids) {
        return bpc(model, ids, DEFAULT_BATCH, DEFAULT_SEQ);
    }

    /**
     * Bits per character = total cross-entropy in nats / number of predicted characters / ln 2. A unidirectional
     * model predicts each character from the ones before it; a bidirectional model predicts each character from
     * both sides (the cloze objective of {@link dev.lacuna.core.Architecture}).
     *
     * @throws IllegalArgumentException when an id is outside the model's vocabulary, no position has a target,
     *                                  or batch or seq is not positive
     */
    public static double bpc(Model model, int[] ids, int batch, int seq) {
        int vocab = model.architecture().vocabSize();
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("id " + id + " is outside the vocabulary of " + vocab);
            }
        }
        ParameterStore store = new ParameterStore(model);
        store.applyMask(); // evaluate the pruned model even if its weights were never re-masked
        CharRnnNetwork network = new CharRnnNetwork(model.architecture(), store);
        return bpc(network, model.architecture().bidirectional(), ids, batch, seq);
    }

    /** The same measure on a network the caller already holds (the trainer's, mid-training). */
    static double bpc(CharRnnNetwork network, boolean cloze, int[] ids, int batch, int seq) {
        if (batch < 1 || seq < 1) {
            throw new IllegalArgumentException("batch and seq must be positive, got " + batch + " and " + seq);
        }
        long positions = CharBatches.positions(ids.length, cloze);
        if (positions < 1) {
            throw new IllegalArgumentException(ids.length + " ids hold no character to predict");
        }
        int streamLength = (int) ((positions + batch - 1) / batch);
        int fullStreams = (int) (positions / streamLength);
        int remainder = (int) (positions - (long) fullStreams * streamLength);
        Sum sum = new Sum();
        run(network, cloze, ids, 0, fullStreams, streamLength, seq, sum);
        if (remainder > 0) {
            run(network, cloze, ids, fullStreams * streamLength, 1, remainder, seq, sum);
        }
        return sum.nats / sum.count / LN2;
    }

    private static final class Sum {
        double nats;
        long count;
    }

    private static void run(CharRnnNetwork network, boolean cloze, int[] ids, int first, int streams, int length,
                            int seq, Sum sum) {
        int shift = cloze ? 0 : 1;
        RnnState state = network.zeroState(streams);
        for (int chunk = 0; chunk < length; chunk += seq) {
            int steps = Math.min(seq, length - chunk);
            int[][] inputs = new int[streams][steps];
            int[][] targets = new int[streams][steps];
            for (int s = 0; s < streams; s++) {
                int start = first + s * length + chunk;
                System.arraycopy(ids, start, inputs[s], 0, steps);
                System.arraycopy(ids, start + shift, targets[s], 0, steps);
            }
            sum.nats += network.forward(inputs, targets, state, false);
            sum.count += network.countedTargets();
        }
    }
}
