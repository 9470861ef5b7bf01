package dev.lacuna.train;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.core.TensorRole;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.io.Sha256;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Trained quantization (Deep Compression §3.2; algorithms.md §4(a)3): fine-tunes the shared values of a quantized
 * model on training text. Within each codebook block, weights that hold the same value share one centroid; the
 * gradient of a centroid is the sum of the gradients of its weights, the assignment of weights to centroids stays
 * fixed, and pruned weights stay zero. Centroids are updated with Adam; every other parameter (biases, tensors that
 * were not shared) is left as it is.
 *
 * <p>The result still shares at most as many values per block as the input, so re-encoding it with the same code
 * width stores exactly the fine-tuned centroids.
 *
 * <p>Runs are deterministic. With {@link #checkpointEvery(long, Path)} the run saves a {@link CentroidCheckpoint}
 * every N steps, and {@link #resumeFrom(CentroidCheckpoint)} continues an interrupted run from one so that it ends
 * bit-identical to an uninterrupted run (issue #8 item 4).
 */
public final class CentroidFineTuner {
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPSILON = 1e-8;

    private final Model model;
    private final CharCorpus corpus;
    private final TrainConfig config;
    private final boolean perGateBlocks;
    private final TrainingListener listener;
    private Path checkpointFile;
    private long checkpointEvery;
    private CentroidCheckpoint resume;

    /** The fine-tuned model and held-out bits per character before and after. */
    public record Result(Model model, double bpcBefore, double bpcAfter, long steps) {
    }

    /**
     * @param quantized     a model whose weight matrices share values per block (as a {@code .lacuna} codebook
     *                      encoding leaves them); fine-tuned in place
     * @param perGateBlocks whether recurrent matrices share values per gate block (must match the encoding)
     */
    public CentroidFineTuner(Model quantized, CharCorpus corpus, TrainConfig config, boolean perGateBlocks) {
        this(quantized, corpus, config, perGateBlocks, null);
    }

    /**
     * @param quantized     a model whose weight matrices share values per block (as a {@code .lacuna} codebook
     *                      encoding leaves them); fine-tuned in place
     * @param perGateBlocks whether recurrent matrices share values per gate block (must match the encoding)
     * @param listener      progress callbacks ({@code onStep} reports the masked fraction as the sparsity), or null
     */
    public CentroidFineTuner(Model quantized, CharCorpus corpus, TrainConfig config, boolean perGateBlocks,
                             TrainingListener listener) {
        this.listener = listener != null ? listener : TrainingListener.NONE;
        this.model = Objects.requireNonNull(quantized, "model");
        this.corpus = Objects.requireNonNull(corpus, "corpus");
        this.config = Objects.requireNonNull(config, "config");
        this.perGateBlocks = perGateBlocks;
        if (!corpus.vocabulary().equals(quantized.vocabulary())) {
            throw new BadFileException(corpus.source(), "was encoded with another vocabulary than the model's");
        }
    }

    /** One shared value: where its weights are in the flat parameter vector. */
    private static final class Centroid {
        final int[] positions;
        double value;
        double m;
        double v;

        Centroid(int[] positions, double value) {
            this.positions = positions;
            this.value = value;
        }
    }

    /**
     * Makes {@link #run()} write a {@link CentroidCheckpoint} to {@code file} (atomically, replacing the previous
     * one) after every {@code every} completed steps, except after the last step.
     *
     * @return this fine-tuner
     * @throws InvalidOptionException naming {@code --checkpoint-every} unless {@code every} is positive
     */
    public CentroidFineTuner checkpointEvery(long every, Path file) {
        if (every < 1) {
            throw new InvalidOptionException("--checkpoint-every", "must be positive, found " + every);
        }
        this.checkpointEvery = every;
        this.checkpointFile = Objects.requireNonNull(file, "file");
        return this;
    }

    /**
     * Makes {@link #run()} continue from {@code checkpoint} instead of starting at step 0. The fine-tuner must be
     * given the same quantized model (as it was before the interrupted run), corpus, configuration and block layout:
     * {@link #run()} checks a fingerprint of all four.
     *
     * @return this fine-tuner
     */
    public CentroidFineTuner resumeFrom(CentroidCheckpoint checkpoint) {
        this.resume = Objects.requireNonNull(checkpoint, "checkpoint");
        return this;
    }

    /**
     * Fine-tunes for {@link TrainConfig#totalSteps(int)} steps and leaves the tuned values in the model.
     *
     * @throws LacunaException        when the loss stops being finite
     * @throws InvalidOptionException naming {@code --resume} when the checkpoint to resume from belongs to a
     *                                different run
     * @throws BadFileException       naming the checkpoint when its contents do not fit this model
     */
    public Result run() {
        // Taken before anything changes the model, so a resumed run (given the original input) computes the same.
        String fingerprint = checkpointFile != null || resume != null ? fingerprint() : null;
        Architecture arch = model.architecture();
        boolean cloze = arch.bidirectional();
        int[] validation = corpus.validation();
        double before = Evaluator.bpc(model, validation);
        List<Centroid> centroids = sharedValues();
        ParameterStore store = new ParameterStore(model);
        store.applyMask();
        CharRnnNetwork network = new CharRnnNetwork(arch, store);
        CharBatches batches = new CharBatches(corpus.train(), config.batch(), config.seq(), cloze, config.seed());
        long steps = config.totalSteps(batches.stepsPerEpoch());
        double sparsity = Trainer.maskedFraction(model);
        RnnState state = null;
        long firstStep = 0;
        if (resume != null) {
            resume.checkBelongsTo(fingerprint, steps);
            state = network.zeroState(config.batch());
            resume.restore(centroids.size(), arch, state, batches);
            restoreCentroids(centroids, resume.centroids, store);
            firstStep = resume.completedSteps;
        }
        listener.onStart(steps);
        for (long step = firstStep; step < steps; step++) {
            CharBatches.Batch minibatch = batches.next();
            if (minibatch.startsEpoch()) {
                state = network.zeroState(config.batch());
            }
            double nats = network.forward(minibatch.inputs(), minibatch.targets(), state, true);
            if (!Double.isFinite(nats)) {
                throw new LacunaException("centroid fine-tuning diverged at step " + step + "; lower --lr");
            }
            network.backward(1.0 / network.countedTargets());
            float[] grads = store.grads().toFloatVector();
            float[] params = store.params().toFloatVector();
            double lr = config.learningRate(step);
            double correction1 = 1 - Math.pow(BETA1, step + 1);
            double correction2 = 1 - Math.pow(BETA2, step + 1);
            for (Centroid c : centroids) {
                double g = 0;
                for (int p : c.positions) {
                    g += grads[p];
                }
                c.m = BETA1 * c.m + (1 - BETA1) * g;
                c.v = BETA2 * c.v + (1 - BETA2) * g * g;
                c.value -= lr * (c.m / correction1) / (Math.sqrt(c.v / correction2) + EPSILON);
                float shared = (float) c.value;
                for (int p : c.positions) {
                    params[p] = shared;
                }
            }
            store.params().assign(Nd4j.createFromArray(params).castTo(store.dataType()));
            listener.onStep(step, nats / network.countedTargets() / Math.log(2), sparsity);
            if (checkpointFile != null && step + 1 < steps && (step + 1) % checkpointEvery == 0) {
                CentroidCheckpoint.capture(fingerprint, step + 1, centroidState(centroids), state, arch, batches)
                        .write(checkpointFile);
            }
        }
        store.copyTo(model);
        model.applyMasks();
        double after = Evaluator.bpc(model, validation);
        listener.onEvaluation(steps, after);
        listener.onFinish();
        return new Result(model, before, after, steps);
    }

    /**
     * The run's identity for checkpoints: the trainer's fingerprint of model (the quantized values and masks fix
     * the assignments), data and configuration, plus the block layout, which changes the assignments too.
     */
    private String fingerprint() {
        return Sha256.ofText("centroid fine-tuning\nper gate blocks=" + perGateBlocks + "\n"
                + TrainingCheckpoint.fingerprint(model, corpus, config, null));
    }

    private static double[] centroidState(List<Centroid> centroids) {
        double[] out = new double[3 * centroids.size()];
        for (int i = 0; i < centroids.size(); i++) {
            Centroid c = centroids.get(i);
            out[3 * i] = c.value;
            out[3 * i + 1] = c.m;
            out[3 * i + 2] = c.v;
        }
        return out;
    }

    /** Sets each centroid and its weights' parameters as they were after the checkpoint's last step. */
    private static void restoreCentroids(List<Centroid> centroids, double[] saved, ParameterStore store) {
        float[] params = store.params().toFloatVector();
        for (int i = 0; i < centroids.size(); i++) {
            Centroid c = centroids.get(i);
            c.value = saved[3 * i];
            c.m = saved[3 * i + 1];
            c.v = saved[3 * i + 2];
            float shared = (float) c.value;
            for (int p : c.positions) {
                params[p] = shared;
            }
        }
        store.params().assign(Nd4j.createFromArray(params).castTo(store.dataType()));
    }

    /**
     * The shared values of every weight matrix: per block, the kept non-zero weights grouped by value. Exact float
     * equality is the assignment, since a codebook decoder gives every weight of a centroid the same float.
     */
    private List<Centroid> sharedValues() {
        List<Centroid> out = new ArrayList<>();
        long offset = 0;
        int gates = model.architecture().cell().gates();
        for (TensorSpec spec : model.architecture().tensors()) {
            if (spec.role() != TensorRole.BIAS) {
                float[] data = model.tensor(spec.name()).data();
                boolean[] keep = model.mask(spec.name());
                boolean gated = spec.role() == TensorRole.INPUT_WEIGHT || spec.role() == TensorRole.RECURRENT_WEIGHT;
                int blocks = perGateBlocks && gated ? gates : 1;
                int blockSize = data.length / blocks;
                for (int b = 0; b < blocks; b++) {
                    Map<Float, List<Integer>> groups = new HashMap<>();
                    for (int i = b * blockSize; i < (b + 1) * blockSize; i++) {
                        if (data[i] != 0f && (keep == null || keep[i])) {
                            groups.computeIfAbsent(data[i], k -> new ArrayList<>()).add((int) offset + i);
                        }
                    }
                    List<Float> values = new ArrayList<>(groups.keySet());
                    values.sort(Float::compare); // a fixed order keeps runs deterministic
                    for (Float value : values) {
                        int[] positions = groups.get(value).stream().mapToInt(Integer::intValue).toArray();
                        out.add(new Centroid(positions, value));
                    }
                }
            }
            offset += spec.elementCount();
        }
        return out;
    }
}
