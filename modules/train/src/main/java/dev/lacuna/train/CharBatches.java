package dev.lacuna.train;

import java.util.SplittableRandom;

/**
 * Truncated-BPTT minibatches over a sequence of character ids: {@code batch} parallel streams, each a contiguous
 * run of the text, read {@code seq} positions per step so that the recurrent state can carry from one step to the
 * next.
 *
 * <p>An epoch lays {@code batch} streams of {@code stepsPerEpoch() * seq} positions end to end. The positions left
 * over (fewer than {@code batch * seq}) form the slack; each epoch starts the streams at an offset in
 * {@code [0, slack]} drawn from the seed, so different seeds see different chunk boundaries and, across epochs,
 * the text's tail is not always dropped. When the streams reach their end the next batch starts a new epoch and
 * reports it, so that the trainer resets the carried state (the streams jump to unrelated text).
 *
 * <p>Objectives (see {@link dev.lacuna.core.Architecture}): a unidirectional model reads position {@code p} and
 * predicts {@code p + 1}; a bidirectional cloze model is given the same characters as inputs and targets (the
 * network shifts its two directions so that no position sees its own character).
 */
public final class CharBatches {

    /** One step's minibatch: {@code inputs[b][t]} and {@code targets[b][t]} for stream b and time t. */
    public record Batch(int[][] inputs, int[][] targets, boolean startsEpoch, long epoch) {
    }

    private final int[] ids;
    private final int batch;
    private final int seq;
    private final boolean cloze;
    private final int stepsPerEpoch;
    private final int slack;
    private final SplittableRandom random;

    private long epoch = -1;
    private int stepInEpoch;
    private int offset;
    private long drawn;

    /**
     * @param ids   class ids (not copied; must not change while batches are drawn)
     * @param batch number of parallel streams (at least 1)
     * @param seq   time steps per batch (at least 1)
     * @param cloze true for the bidirectional cloze objective (targets are the inputs), false for next-character
     * @param seed  chooses each epoch's start offset
     * @throws IllegalArgumentException when the ids cannot fill one batch; callers that know the source file check
     *                                  {@link #positions(int, boolean)} first and report it
     */
    public CharBatches(int[] ids, int batch, int seq, boolean cloze, long seed) {
        if (batch < 1 || seq < 1) {
            throw new IllegalArgumentException("batch and seq must be positive, got " + batch + " and " + seq);
        }
        long positions = positions(ids.length, cloze);
        long perStep = (long) batch * seq;
        if (positions < perStep) {
            throw new IllegalArgumentException(positions + " positions cannot fill one batch of " + batch + " x "
                    + seq);
        }
        this.ids = ids;
        this.batch = batch;
        this.seq = seq;
        this.cloze = cloze;
        this.stepsPerEpoch = (int) (positions / perStep);
        this.slack = (int) (positions - perStep * stepsPerEpoch);
        this.random = new SplittableRandom(seed);
    }

    /**
     * Number of positions that have a target: every character for the cloze objective, all but the last for
     * next-character prediction (the last has nothing to predict).
     */
    public static long positions(int length, boolean cloze) {
        return cloze ? length : Math.max(0, length - 1);
    }

    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** The next minibatch; after the last step of an epoch the streams restart (a new epoch). */
    public Batch next() {
        boolean starts = advance();
        int streamLength = stepsPerEpoch * seq;
        int[][] inputs = new int[batch][seq];
        int[][] targets = new int[batch][seq];
        int shift = cloze ? 0 : 1;
        for (int b = 0; b < batch; b++) {
            int start = offset + b * streamLength + stepInEpoch * seq;
            System.arraycopy(ids, start, inputs[b], 0, seq);
            System.arraycopy(ids, start + shift, targets[b], 0, seq);
        }
        stepInEpoch++;
        drawn++;
        return new Batch(inputs, targets, starts, epoch);
    }

    /** Minibatches drawn so far: the data position a training checkpoint records. */
    public long drawn() {
        return drawn;
    }

    /**
     * Moves on by {@code count} minibatches without building them, so that a resumed run reads the same text as
     * an uninterrupted one: the seeded offset draws are replayed, which reproduces the random state exactly.
     */
    public void skip(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("cannot skip a negative number of batches: " + count);
        }
        for (long i = 0; i < count; i++) {
            advance();
            stepInEpoch++;
            drawn++;
        }
    }

    /** Starts a new epoch when the streams are used up (or before the first batch); returns whether it did. */
    private boolean advance() {
        boolean starts = epoch < 0 || stepInEpoch == stepsPerEpoch;
        if (starts) {
            epoch++;
            stepInEpoch = 0;
            offset = random.nextInt(slack + 1);
        }
        return starts;
    }
}
