package dev.lacuna.train;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.core.TensorRole;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;
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
 */
public final class CentroidFineTuner {
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPSILON = 1e-8;

    private final Model model;
    private final CharCorpus corpus;
    private final TrainConfig config;
    private final boolean perGateBlocks;

    /** The fine-tuned model and held-out bits per character before and after. */
    public record Result(Model model, double bpcBefore, double bpcAfter, long steps) {
    }

    /**
     * @param quantized     a model whose weight matrices share values per block (as a {@code .lacuna} codebook
     *                      encoding leaves them); fine-tuned in place
     * @param perGateBlocks whether recurrent matrices share values per gate block (must match the encoding)
     */
    public CentroidFineTuner(Model quantized, CharCorpus corpus, TrainConfig config, boolean perGateBlocks) {
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

    public Result run() {
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
        RnnState state = null;
        for (long step = 0; step < steps; step++) {
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
        }
        store.copyTo(model);
        model.applyMasks();
        double after = Evaluator.bpc(model, validation);
        return new Result(model, before, after, steps);
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
