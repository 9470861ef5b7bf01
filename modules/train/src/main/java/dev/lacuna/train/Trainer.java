package dev.lacuna.train;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Trains a character model on a corpus with truncated BPTT, optionally pruning it while it trains (N17 Alg. 1).
 *
 * <p>The mask lifecycle follows the {@link PruningPolicy} contract: the model's masks are applied before the first
 * forward pass; before the forward pass of step t, when the policy refreshes at t, the weights as the optimizer
 * left them are copied into the model, the policy recomputes the masks from them, and the new masks are loaded and
 * applied; after every optimizer step the masks are applied again, so that momentum or Adam's moments cannot
 * revive a pruned weight (algorithms.md §1(d) pitfall 6). Gradients are not masked (N17 §3), which is what lets a
 * regrowth policy bring a weight back. Without a policy, masks the model already carries are kept fixed, so a
 * pruned model can be fine-tuned.
 *
 * <p>Runs are deterministic: the same model, corpus, configuration and policy give bit-identical weights. With
 * {@link #checkpointEvery(long, Path)} the run saves a {@link TrainingCheckpoint} every N steps, and
 * {@link #resumeFrom(TrainingCheckpoint)} continues an interrupted run from one so that it ends bit-identical to an
 * uninterrupted run (issue #8 item 4).
 */
public final class Trainer {
    private static final double LN2 = Math.log(2);

    private final Model model;
    private final CharCorpus corpus;
    private final TrainConfig config;
    private final PruningPolicy policy;
    private final TrainingListener listener;
    private Consumer<TrainingCheckpoint> checkpointSink;
    private long checkpointEvery;
    private TrainingCheckpoint resume;

    /**
     * @param model        the model to train in place
     * @param corpus       text encoded with the model's vocabulary
     * @param config       hyperparameters
     * @param policyOrNull pruning method, or null to train without changing the masks
     * @param listener     progress callbacks, or null for none
     * @throws InvalidOptionException when the model is bidirectional with more than one layer
     * @throws BadFileException       when the corpus was encoded with another vocabulary or cannot fill one batch
     */
    public Trainer(Model model, CharCorpus corpus, TrainConfig config, PruningPolicy policyOrNull,
                   TrainingListener listener) {
        this.model = Objects.requireNonNull(model, "model");
        this.corpus = Objects.requireNonNull(corpus, "corpus");
        this.config = Objects.requireNonNull(config, "config");
        this.policy = policyOrNull;
        this.listener = listener != null ? listener : TrainingListener.NONE;
        Architecture arch = model.architecture();
        if (arch.bidirectional() && arch.layers() > 1) {
            throw new InvalidOptionException("--bidirectional", "a character model can be bidirectional with one "
                    + "layer only, found " + arch.layers() + " layers: above the first layer both directions have "
                    + "already read the character to predict, so the cloze objective would leak the answer");
        }
        if (!corpus.vocabulary().equals(model.vocabulary())) {
            throw new BadFileException(corpus.source(), "was encoded with a vocabulary of "
                    + corpus.vocabulary().size() + " symbols that differs from the model's " + model.vocabulary().size()
                    + "; load the text with the model's vocabulary");
        }
        stepsPerEpoch(corpus, config, arch.bidirectional()); // fails now, naming the file, if no batch fits
    }

    /**
     * Makes {@link #run()} write a training checkpoint to {@code file} (atomically, replacing the previous one)
     * after every {@code every} completed steps, except after the last step.
     *
     * @return this trainer
     * @throws InvalidOptionException naming {@code --checkpoint-every} unless {@code every} is positive
     */
    public Trainer checkpointEvery(long every, Path file) {
        Objects.requireNonNull(file, "file");
        return checkpointEvery(every, checkpoint -> checkpoint.write(file));
    }

    /**
     * Like {@link #checkpointEvery(long, Path)}, handing each checkpoint to {@code sink} instead of writing it, for
     * callers that store it together with state of their own (a run of several trainings, such as Han's rounds).
     * The sink runs on the training thread; its time is not counted as training time.
     *
     * @return this trainer
     * @throws InvalidOptionException naming {@code --checkpoint-every} unless {@code every} is positive
     */
    public Trainer checkpointEvery(long every, Consumer<TrainingCheckpoint> sink) {
        if (every < 1) {
            throw new InvalidOptionException("--checkpoint-every", "must be positive, found " + every);
        }
        this.checkpointEvery = every;
        this.checkpointSink = Objects.requireNonNull(sink, "sink");
        return this;
    }

    /**
     * Makes {@link #run()} continue from {@code checkpoint} instead of starting at step 0. The trainer must be
     * given the same model (as it was before the interrupted run), corpus, configuration and policy: {@link #run()}
     * checks a fingerprint of all four.
     *
     * @return this trainer
     */
    public Trainer resumeFrom(TrainingCheckpoint checkpoint) {
        this.resume = Objects.requireNonNull(checkpoint, "checkpoint");
        return this;
    }

    /**
     * Optimizer steps in one epoch over the corpus's training part with this batch shape, for callers that size
     * a pruning schedule before constructing the trainer; {@link TrainConfig#totalSteps(int)} turns it into the
     * run length.
     *
     * @param bidirectional whether the model is bidirectional (its cloze objective predicts one more position)
     * @throws BadFileException when the training part cannot fill one batch
     */
    public static int stepsPerEpoch(CharCorpus corpus, TrainConfig config, boolean bidirectional) {
        long positions = CharBatches.positions(corpus.trainLength(), bidirectional);
        long needed = (long) config.batch() * config.seq();
        if (positions < needed) {
            throw new BadFileException(corpus.source(), "too short for one batch: its training part (90%) gives "
                    + positions + " predictions, but --batch " + config.batch() + " x --seq " + config.seq()
                    + " needs " + needed + "; use a longer text or lower --batch or --seq");
        }
        return (int) (positions / needed);
    }

    /**
     * Trains for {@link TrainConfig#totalSteps(int)} steps, evaluates on the whole validation split, and leaves the
     * trained weights and masks in the model (masked weights exactly zero).
     *
     * @throws LacunaException       when the loss stops being finite (training diverged)
     * @throws InvalidOptionException naming {@code --resume} when the checkpoint to resume from belongs to a
     *                                different run
     * @throws BadFileException       naming the checkpoint when its contents do not fit this model
     */
    public TrainResult run() {
        // Taken before anything changes the model, so a resumed run (given the original input) computes the same.
        String fingerprint = checkpointSink != null || resume != null
                ? TrainingCheckpoint.fingerprint(model, corpus, config, policy) : null;
        Architecture arch = model.architecture();
        boolean cloze = arch.bidirectional();
        int batch = config.batch();
        int seq = config.seq();
        ParameterStore store = new ParameterStore(model);
        CharRnnNetwork network = new CharRnnNetwork(arch, store);
        CharBatches batches = new CharBatches(corpus.train(), batch, seq, cloze, config.seed());
        Optimizer optimizer = Optimizer.create(config.optimizer(), store.params(), config.momentum());
        int[] validation = corpus.validation();
        long totalSteps = config.totalSteps(batches.stepsPerEpoch());
        List<TrainResult.Point> history = new ArrayList<>();
        if (resume != null) {
            resume.checkBelongsTo(fingerprint, totalSteps);
        }

        listener.onStart(totalSteps);
        long trainNanos = 0;
        long pruningNanos = 0;
        long firstStep = 0;
        double sparsity;
        boolean refreshNext;
        RnnState state = null;
        long segmentStart = System.nanoTime();

        if (resume != null) {
            state = network.zeroState(batch);
            resume.restore(model, store, optimizer, state, batches);
            firstStep = resume.completedSteps;
            sparsity = resume.sparsity;
            trainNanos = resume.trainNanos;
            pruningNanos = resume.pruningNanos;
            history.addAll(resume.history);
            // As at the end of the interrupted step: the model already holds the pre-masking weights if needed.
            refreshNext = policy != null && policy.refreshesAt(firstStep);
            segmentStart = System.nanoTime();
        } else {
            // The policy must see weights as the optimizer left them, before re-masking (PruningPolicy contract),
            // so the snapshot for a refresh at step t is taken right after step t-1's update, before its
            // re-masking.
            refreshNext = policy != null && totalSteps > 0 && policy.refreshesAt(0);
            if (refreshNext) {
                store.copyTo(model);
            }
            store.loadMasks(model);
            store.applyMask();
            sparsity = maskedFraction(model);
            pruningNanos += System.nanoTime() - segmentStart;
        }

        for (long step = firstStep; step < totalSteps; step++) {
            long stepStart = System.nanoTime();
            CharBatches.Batch minibatch = batches.next();
            if (minibatch.startsEpoch()) {
                // The streams jumped to other text: carrying the old state would condition on unrelated context.
                state = network.zeroState(batch);
            }
            if (refreshNext) {
                long pruneStart = System.nanoTime();
                policy.refresh(step, model);
                store.loadMasks(model);
                store.applyMask();
                sparsity = maskedFraction(model);
                pruningNanos += System.nanoTime() - pruneStart;
            }
            double nats = network.forward(minibatch.inputs(), minibatch.targets(), state, true);
            long counted = network.countedTargets();
            if (!Double.isFinite(nats)) {
                throw new LacunaException("training diverged at step " + step + ": the loss is " + nats
                        + "; lower --lr or --clip");
            }
            // Mean loss per predicted character, so the learning rate does not depend on batch x seq.
            network.backward(1.0 / counted);
            Optimizer.clipByGlobalNorm(store.grads(), config.clip());
            optimizer.step(store.params(), store.grads(), config.learningRate(step));
            long maskStart = System.nanoTime();
            refreshNext = policy != null && step + 1 < totalSteps && policy.refreshesAt(step + 1);
            if (refreshNext) {
                store.copyTo(model);
            }
            store.applyMask();
            long stepEnd = System.nanoTime();
            pruningNanos += stepEnd - maskStart;
            double stepMillis = (stepEnd - stepStart) / 1e6;

            double trainBpc = nats / counted / LN2;
            listener.onStep(step, trainBpc, sparsity);
            double bpcVal = Double.NaN;
            boolean last = step + 1 == totalSteps;
            if (!last && config.evalEvery() > 0 && (step + 1) % config.evalEvery() == 0) {
                trainNanos += System.nanoTime() - segmentStart;
                bpcVal = Evaluator.bpc(network, cloze, validation, Evaluator.DEFAULT_BATCH, Evaluator.DEFAULT_SEQ);
                listener.onEvaluation(step + 1, bpcVal);
                segmentStart = System.nanoTime();
            }
            history.add(new TrainResult.Point(step, trainBpc, sparsity, bpcVal, stepMillis));
            if (checkpointSink != null && !last && (step + 1) % checkpointEvery == 0) {
                // Writing the checkpoint is not training time, so it is left out as evaluation is.
                trainNanos += System.nanoTime() - segmentStart;
                checkpointSink.accept(TrainingCheckpoint.capture(fingerprint, step + 1, model, store, optimizer, state,
                        batches, sparsity, trainNanos, pruningNanos, history));
                segmentStart = System.nanoTime();
            }
        }
        trainNanos += System.nanoTime() - segmentStart;

        double bpcVal = Evaluator.bpc(network, cloze, validation, Evaluator.DEFAULT_BATCH, Evaluator.DEFAULT_SEQ);
        listener.onEvaluation(totalSteps, bpcVal);
        if (!history.isEmpty()) {
            TrainResult.Point end = history.remove(history.size() - 1);
            history.add(new TrainResult.Point(end.step(), end.trainBpc(), end.sparsity(), bpcVal, end.millis()));
        }
        store.copyTo(model);
        model.applyMasks();
        listener.onFinish();

        double trainSeconds = trainNanos / 1e9;
        double stepsPerSecond = trainSeconds > 0 ? totalSteps / trainSeconds : 0;
        return new TrainResult(model, totalSteps, trainSeconds, stepsPerSecond, pruningNanos / 1e9, bpcVal, history);
    }

    /**
     * Fraction of the prunable weights whose mask is false. Counted from the masks rather than the weights, so it
     * costs nothing between refreshes; after re-masking the two agree except for weights that are exactly zero by
     * chance. The embedding counts as prunable only when it carries a mask.
     */
    static double maskedFraction(Model model) {
        boolean embeddingMasked = model.mask(Architecture.EMBEDDING) != null;
        long total = 0;
        long masked = 0;
        for (TensorSpec spec : model.prunable(embeddingMasked)) {
            total += spec.elementCount();
            boolean[] keep = model.mask(spec.name());
            if (keep != null) {
                for (boolean k : keep) {
                    if (!k) {
                        masked++;
                    }
                }
            }
        }
        return total == 0 ? 0 : (double) masked / total;
    }
}
