package dev.lacuna.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The one in-memory description every stage passes on: architecture, vocabulary, named weight tensors, the
 * binary masks of pruned tensors, and free-form provenance metadata.
 *
 * <p>A mask entry {@code true} keeps the weight. A tensor without a mask is dense. Masked-out weights are stored as
 * exact zeros once {@link #applyMasks()} has run, which every trainer step and every writer does.
 */
public final class Model {
    private final Architecture architecture;
    private final Vocabulary vocabulary;
    private final Map<String, Tensor> tensors;
    private final Map<String, TensorSpec> specs;
    private final Map<String, boolean[]> masks = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /**
     * @throws IllegalArgumentException when the tensors do not match the architecture exactly (readers translate
     *                                  this into a {@link BadFileException} naming their file)
     */
    public Model(Architecture architecture, Vocabulary vocabulary, Map<String, Tensor> tensors) {
        if (vocabulary.size() != architecture.vocabSize()) {
            throw new IllegalArgumentException("vocabulary has " + vocabulary.size()
                    + " symbols but the architecture expects " + architecture.vocabSize());
        }
        this.architecture = architecture;
        this.vocabulary = vocabulary;
        this.tensors = new LinkedHashMap<>();
        this.specs = new LinkedHashMap<>();
        for (TensorSpec spec : architecture.tensors()) {
            Tensor t = tensors.get(spec.name());
            if (t == null) {
                throw new IllegalArgumentException("missing tensor " + spec);
            }
            if (!java.util.Arrays.equals(t.shape(), spec.shape())) {
                throw new IllegalArgumentException("tensor " + spec.name() + " has shape "
                        + java.util.Arrays.toString(t.shape()) + " but the architecture needs "
                        + java.util.Arrays.toString(spec.shape()));
            }
            this.tensors.put(spec.name(), t);
            this.specs.put(spec.name(), spec);
        }
        for (String name : tensors.keySet()) {
            if (!this.tensors.containsKey(name)) {
                throw new IllegalArgumentException("unexpected tensor " + name + " for a " + architecture.cell().id()
                        + " model with " + architecture.layers() + " layer(s)");
            }
        }
    }

    /**
     * A freshly initialised model, as PyTorch initialises the same modules: recurrent weights and biases and the
     * head uniform in ±1/√fan, the embedding standard normal. Same seed, same weights.
     */
    public static Model initialize(Architecture arch, Vocabulary vocabulary, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (TensorSpec spec : arch.tensors()) {
            Tensor t = Tensor.zeros(spec.name(), spec.shape());
            float[] d = t.data();
            if (spec.role() == TensorRole.EMBEDDING) {
                for (int i = 0; i < d.length; i++) {
                    d[i] = (float) gaussian(random);
                }
            } else {
                double bound = spec.name().startsWith("head.")
                        ? 1.0 / Math.sqrt(arch.headInputSize())
                        : 1.0 / Math.sqrt(arch.hiddenSize());
                for (int i = 0; i < d.length; i++) {
                    d[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
                }
            }
            tensors.put(spec.name(), t);
        }
        return new Model(arch, vocabulary, tensors);
    }

    private static double gaussian(SplittableRandom random) {
        double u1 = random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    public Architecture architecture() {
        return architecture;
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /** All tensors in architecture order (live objects). */
    public Map<String, Tensor> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor named " + name);
        }
        return t;
    }

    public TensorSpec spec(String name) {
        TensorSpec s = specs.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no tensor named " + name);
        }
        return s;
    }

    public List<TensorSpec> specs() {
        return List.copyOf(specs.values());
    }

    /** The tensors a pruning method may prune: every input, recurrent and head matrix; the embedding on request. */
    public List<TensorSpec> prunable(boolean includeEmbedding) {
        List<TensorSpec> out = new ArrayList<>();
        for (TensorSpec s : specs.values()) {
            if (s.role() == TensorRole.BIAS || (s.role() == TensorRole.EMBEDDING && !includeEmbedding)) {
                continue;
            }
            out.add(s);
        }
        return out;
    }

    /** The mask of a tensor ({@code true} keeps the weight), or null when it is dense. Live array. */
    public boolean[] mask(String name) {
        return masks.get(name);
    }

    public Map<String, boolean[]> masks() {
        return Collections.unmodifiableMap(masks);
    }

    public void setMask(String name, boolean[] keep) {
        Tensor t = tensor(name);
        if (keep.length != t.size()) {
            throw new IllegalArgumentException("mask for " + name + " has " + keep.length + " entries, tensor has "
                    + t.size());
        }
        masks.put(name, keep);
    }

    public void removeMasks() {
        masks.clear();
    }

    /** Zeroes every masked-out weight, so stored values agree with the masks. */
    public void applyMasks() {
        for (Map.Entry<String, boolean[]> e : masks.entrySet()) {
            float[] d = tensors.get(e.getKey()).data();
            boolean[] keep = e.getValue();
            for (int i = 0; i < d.length; i++) {
                if (!keep[i]) {
                    d[i] = 0f;
                }
            }
        }
    }

    /** Provenance and other string metadata (toolkit version, method, hyperparameters). Mutable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** A deep copy: tensors, masks and metadata. */
    public Model copy() {
        Map<String, Tensor> copied = new LinkedHashMap<>();
        tensors.forEach((k, v) -> copied.put(k, v.copy()));
        Model m = new Model(architecture, vocabulary, copied);
        masks.forEach((k, v) -> m.masks.put(k, v.clone()));
        m.metadata.putAll(metadata);
        return m;
    }

    /** Sparsity per tensor and over the prunable tensors. */
    public SparsityReport sparsity(boolean includeEmbedding) {
        return SparsityReport.of(this, includeEmbedding);
    }
}
