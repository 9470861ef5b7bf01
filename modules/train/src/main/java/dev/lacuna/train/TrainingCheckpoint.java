package dev.lacuna.train;

import static dev.lacuna.train.CheckpointFields.DRAWN_KEY;
import static dev.lacuna.train.CheckpointFields.RUN_KEY;
import static dev.lacuna.train.CheckpointFields.STEPS_KEY;
import static dev.lacuna.train.CheckpointFields.expectLength;
import static dev.lacuna.train.CheckpointFields.floats;
import static dev.lacuna.train.CheckpointFields.fraction;
import static dev.lacuna.train.CheckpointFields.nonNegativeLong;
import static dev.lacuna.train.CheckpointFields.required;
import static dev.lacuna.train.CheckpointFields.requireFormat;
import static dev.lacuna.train.CheckpointFields.writerWithHeader;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.io.SafetensorsDType;
import dev.lacuna.io.SafetensorsFile;
import dev.lacuna.io.SafetensorsTensor;
import dev.lacuna.io.SafetensorsWriter;
import dev.lacuna.io.Sha256;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Everything a {@link Trainer} needs to continue an interrupted run so that it ends bit-identical to an
 * uninterrupted one (issue #8 item 4): the flat parameters as the optimizer left them, the model's tensors and masks
 * (the pruning policies are immutable and keep all their state in the masks and weights, see
 * {@link dev.lacuna.core.PruningPolicy}), the optimizer's vectors and step count, the carried recurrent state, the
 * data position (minibatches drawn; the batcher's seeded draws are replayed from it), the reported sparsity, the
 * per-step history, the elapsed training time, and a fingerprint of the run's model, data and settings so that a
 * checkpoint is never applied to a different run.
 *
 * <p>Stored as a safetensors file: float32 tensors are kept bit for bit, masks as U8 0/1, the history as raw
 * little-endian longs and doubles, scalars in the string metadata (doubles in Java's round-tripping decimal form).
 * A caller that runs several trainings (Han's rounds) stores its own state in the same file, under
 * {@link #EXTENSION_PREFIX}, so that one atomic write replaces both.
 */
public final class TrainingCheckpoint {
    /** Value of the {@code lacuna.format} metadata key. */
    public static final String FORMAT = "lacuna-resume/1";
    /** Suffix appended to the output's file name to name its checkpoint. */
    public static final String SUFFIX = ".resume";

    static final String OPTIMIZER_STEPS_KEY = "lacuna.resume.optimizer_steps";
    static final String SPARSITY_KEY = "lacuna.resume.sparsity";
    static final String TRAIN_NANOS_KEY = "lacuna.resume.train_nanos";
    static final String PRUNING_NANOS_KEY = "lacuna.resume.pruning_nanos";
    static final String PARAMS = "params";
    static final String WEIGHT_PREFIX = "weight.";
    static final String MASK_PREFIX = "mask.";
    static final String OPTIMIZER_PREFIX = "optimizer.";
    static final String HISTORY = "history";
    /**
     * Names of tensors that belong to a caller storing state of its own in the same file (see
     * {@link #write(Path, Consumer)}); {@link #read(SafetensorsFile)} leaves them alone.
     */
    public static final String EXTENSION_PREFIX = "ext.";
    /** Bytes per history point: the step as a long, then four doubles. */
    private static final int POINT_BYTES = 8 * 5;

    private final Path source;
    final String runFingerprint;
    final long completedSteps;
    final long batchesDrawn;
    final long optimizerSteps;
    final double sparsity;
    final long trainNanos;
    final long pruningNanos;
    final float[] params;
    final Map<String, float[]> weights;
    final Map<String, boolean[]> masks;
    final Map<String, float[]> optimizerState;
    final RecurrentStateTensors recurrentState;
    final List<TrainResult.Point> history;

    TrainingCheckpoint(Path source, String runFingerprint, long completedSteps, long batchesDrawn,
                       long optimizerSteps, double sparsity, long trainNanos, long pruningNanos, float[] params,
                       Map<String, float[]> weights, Map<String, boolean[]> masks,
                       Map<String, float[]> optimizerState, RecurrentStateTensors recurrentState,
                       List<TrainResult.Point> history) {
        this.source = source;
        this.runFingerprint = Objects.requireNonNull(runFingerprint, "runFingerprint");
        this.completedSteps = completedSteps;
        this.batchesDrawn = batchesDrawn;
        this.optimizerSteps = optimizerSteps;
        this.sparsity = sparsity;
        this.trainNanos = trainNanos;
        this.pruningNanos = pruningNanos;
        this.params = params;
        this.weights = Collections.unmodifiableMap(weights);
        this.masks = Collections.unmodifiableMap(masks);
        this.optimizerState = Collections.unmodifiableMap(optimizerState);
        this.recurrentState = Objects.requireNonNull(recurrentState, "recurrentState");
        this.history = List.copyOf(history);
    }

    /** The checkpoint file that belongs to an output: {@code <out>.resume} in the same directory. */
    public static Path besideOutput(Path out) {
        return CheckpointFields.besideOutput(out, SUFFIX);
    }

    /** The file this checkpoint was read from, or null when it was captured in memory. */
    public Path source() {
        return source;
    }

    /** Optimizer steps the interrupted run had completed; a resumed run continues with this step index. */
    public long completedSteps() {
        return completedSteps;
    }

    /** Training wall time the interrupted run had spent, in seconds (evaluation and checkpoint writing excluded). */
    public double trainSeconds() {
        return trainNanos / 1e9;
    }

    /**
     * Writes the checkpoint atomically (a crash while writing leaves the previous checkpoint intact).
     *
     * @throws BadFileException naming {@code target} when it cannot be written
     */
    public void write(Path target) {
        write(target, writer -> {
        });
    }

    /**
     * Writes the checkpoint atomically together with a caller's own state, so both are replaced in one step.
     * {@code extension} may add metadata under keys other than this class's {@code lacuna.format} and
     * {@code lacuna.resume.*}, and tensors whose names start with {@link #EXTENSION_PREFIX}.
     *
     * @throws BadFileException naming {@code target} when it cannot be written
     */
    public void write(Path target, Consumer<SafetensorsWriter> extension) {
        SafetensorsWriter writer = writerWithHeader(FORMAT, runFingerprint, completedSteps, batchesDrawn)
                .putMetadata(OPTIMIZER_STEPS_KEY, Long.toString(optimizerSteps))
                .putMetadata(SPARSITY_KEY, Double.toString(sparsity))
                .putMetadata(TRAIN_NANOS_KEY, Long.toString(trainNanos))
                .putMetadata(PRUNING_NANOS_KEY, Long.toString(pruningNanos));
        writer.addF32(PARAMS, new int[] {params.length}, params);
        weights.forEach((name, values) -> writer.addF32(WEIGHT_PREFIX + name, new int[] {values.length}, values));
        masks.forEach((name, keep) -> writer.addU8(MASK_PREFIX + name, new int[] {keep.length}, toBytes(keep)));
        optimizerState.forEach((name, values) ->
                writer.addF32(OPTIMIZER_PREFIX + name, new int[] {values.length}, values));
        recurrentState.addTo(writer);
        byte[] points = historyBytes(history);
        writer.addU8(HISTORY, new int[] {points.length}, points);
        extension.accept(writer);
        writer.write(target);
    }

    /**
     * Reads a checkpoint written by {@link #write}. Only its own consistency is checked here; whether it belongs to
     * a given run is checked by the trainer that resumes from it.
     *
     * @throws BadFileException naming {@code file} when it is missing, malformed, or not a training checkpoint
     */
    public static TrainingCheckpoint read(Path file) {
        return read(SafetensorsFile.read(file));
    }

    /**
     * Reads the checkpoint from a file already parsed, ignoring the tensors under {@link #EXTENSION_PREFIX}, which
     * a caller of {@link #write(Path, Consumer)} reads itself from the same content.
     *
     * @throws BadFileException naming the file when it is not a training checkpoint or is malformed
     */
    public static TrainingCheckpoint read(SafetensorsFile content) {
        Path file = content.path();
        Map<String, String> meta = content.metadata();
        requireFormat(file, meta, FORMAT, "training checkpoint");
        String run = required(file, meta, RUN_KEY);
        long completed = nonNegativeLong(file, meta, STEPS_KEY);
        long drawn = nonNegativeLong(file, meta, DRAWN_KEY);
        long optimizerSteps = nonNegativeLong(file, meta, OPTIMIZER_STEPS_KEY);
        double sparsity = fraction(file, meta, SPARSITY_KEY);
        long trainNanos = nonNegativeLong(file, meta, TRAIN_NANOS_KEY);
        long pruningNanos = nonNegativeLong(file, meta, PRUNING_NANOS_KEY);

        float[] params = null;
        Map<String, float[]> weights = new LinkedHashMap<>();
        Map<String, boolean[]> masks = new LinkedHashMap<>();
        Map<String, float[]> optimizer = new LinkedHashMap<>();
        RecurrentStateTensors.Reader recurrentState = new RecurrentStateTensors.Reader(file);
        List<TrainResult.Point> history = null;
        for (SafetensorsTensor t : content.tensors().values()) {
            String name = t.name();
            if (name.equals(PARAMS)) {
                params = floats(file, t);
            } else if (name.startsWith(WEIGHT_PREFIX)) {
                weights.put(name.substring(WEIGHT_PREFIX.length()), floats(file, t));
            } else if (name.startsWith(MASK_PREFIX)) {
                masks.put(name.substring(MASK_PREFIX.length()), mask(file, t));
            } else if (name.startsWith(OPTIMIZER_PREFIX)) {
                optimizer.put(name.substring(OPTIMIZER_PREFIX.length()), floats(file, t));
            } else if (name.equals(HISTORY)) {
                history = history(file, t);
            } else if (!recurrentState.accept(t) && !name.startsWith(EXTENSION_PREFIX)) {
                throw new BadFileException(file, "unexpected tensor '" + name + "' in a training checkpoint");
            }
        }
        if (params == null) {
            throw new BadFileException(file, "has no '" + PARAMS + "' tensor");
        }
        if (history == null) {
            throw new BadFileException(file, "has no '" + HISTORY + "' tensor");
        }
        if (history.size() != completed) {
            throw new BadFileException(file, "records " + history.size() + " history points for " + completed
                    + " completed steps");
        }
        return new TrainingCheckpoint(file, run, completed, drawn, optimizerSteps, sparsity, trainNanos,
                pruningNanos, params, weights, masks, optimizer, recurrentState.finish(), history);
    }

    /**
     * A SHA-256 over everything that decides the run's result: the input model (architecture, vocabulary, weights,
     * masks), the training and validation text, the configuration and the policy's method and resolved
     * hyperparameters. A checkpoint carries it so that resuming a different run is refused instead of silently
     * mixing two runs. Public so that callers running several trainings can fingerprint their whole run the same
     * way.
     */
    public static String fingerprint(Model model, CharCorpus corpus, TrainConfig config, PruningPolicy policy) {
        MessageDigest digest = Sha256.newDigest();
        text(digest, model.architecture().toString());
        ints(digest, model.vocabulary().codePoints());
        for (TensorSpec spec : model.architecture().tensors()) {
            text(digest, spec.name());
            float[] w = model.tensor(spec.name()).data();
            ByteBuffer bytes = ByteBuffer.allocate(w.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(w);
            digest.update(bytes);
            boolean[] keep = model.mask(spec.name());
            text(digest, keep == null ? "dense" : "masked");
            if (keep != null) {
                digest.update(toBytes(keep));
            }
        }
        ints(digest, corpus.train());
        ints(digest, corpus.validation());
        // Record and map renderings are exact: Java prints doubles in a form that parses back to the same value.
        text(digest, config.toString());
        text(digest, policy == null ? "no policy" : policy.method() + " " + policy.hyperparameters());
        return Sha256.hex(digest);
    }

    private static void text(MessageDigest digest, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
        digest.update(bytes);
    }

    private static void ints(MessageDigest digest, int[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(Integer.BYTES * (values.length + 1)).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putInt(values.length);
        bytes.asIntBuffer().put(values);
        digest.update(bytes.array());
    }

    /**
     * @throws InvalidOptionException naming {@code --resume} when this checkpoint is of another run
     * @throws BadFileException       when it claims to have completed the whole run
     */
    void checkBelongsTo(String fingerprint, long totalSteps) {
        CheckpointFields.checkBelongsTo(source, "run", runFingerprint, fingerprint, completedSteps, totalSteps);
    }

    /** Snapshot at the end of a step: parameters after re-masking, the model as the next refresh will read it. */
    static TrainingCheckpoint capture(String fingerprint, long completed, Model model, ParameterStore store,
                                      Optimizer optimizer, RnnState state, CharBatches batches, double sparsity,
                                      long trainNanos, long pruningNanos, List<TrainResult.Point> history) {
        Map<String, float[]> weights = new LinkedHashMap<>();
        Map<String, boolean[]> masks = new LinkedHashMap<>();
        for (TensorSpec spec : model.architecture().tensors()) {
            weights.put(spec.name(), model.tensor(spec.name()).data().clone());
            boolean[] keep = model.mask(spec.name());
            if (keep != null) {
                masks.put(spec.name(), keep.clone());
            }
        }
        Map<String, float[]> optimizerState = new LinkedHashMap<>();
        optimizer.stateVectors().forEach((name, vector) -> optimizerState.put(name, vector.toFloatVector()));
        return new TrainingCheckpoint(null, fingerprint, completed, batches.drawn(), optimizer.stepCount(), sparsity,
                trainNanos, pruningNanos, store.params().toFloatVector(), weights, masks, optimizerState,
                RecurrentStateTensors.capture(state, model.architecture()), history);
    }

    /**
     * Puts a run back in the state {@link #capture} saw. Every size is checked against the model before anything
     * changes, so a checkpoint that does not fit leaves the run untouched.
     *
     * @throws BadFileException when a tensor does not fit the model or the optimizer
     */
    void restore(Model model, ParameterStore store, Optimizer optimizer, RnnState state, CharBatches batches) {
        Path file = source;
        Architecture arch = model.architecture();
        expectLength(file, PARAMS, params.length, store.size());
        for (TensorSpec spec : arch.tensors()) {
            float[] w = weights.get(spec.name());
            if (w == null) {
                throw new BadFileException(file, "has no weights for tensor " + spec.name());
            }
            expectLength(file, WEIGHT_PREFIX + spec.name(), w.length, spec.elementCount());
            boolean[] keep = masks.get(spec.name());
            if (keep != null) {
                expectLength(file, MASK_PREFIX + spec.name(), keep.length, spec.elementCount());
            }
        }
        for (String name : masks.keySet()) {
            if (arch.tensors().stream().noneMatch(spec -> spec.name().equals(name))) {
                throw new BadFileException(file, "has a mask for " + name + ", which the model does not have");
            }
        }
        Map<String, INDArray> vectors = optimizer.stateVectors();
        if (!vectors.keySet().equals(optimizerState.keySet())) {
            throw new BadFileException(file, "holds optimizer state " + optimizerState.keySet() + ", but "
                    + "the run's optimizer needs " + vectors.keySet());
        }
        vectors.forEach((name, vector) ->
                expectLength(file, OPTIMIZER_PREFIX + name, optimizerState.get(name).length, vector.length()));
        recurrentState.checkFits(file, arch, state);

        for (TensorSpec spec : arch.tensors()) {
            float[] saved = weights.get(spec.name());
            System.arraycopy(saved, 0, model.tensor(spec.name()).data(), 0, saved.length);
        }
        model.removeMasks();
        masks.forEach((name, keep) -> model.setMask(name, keep.clone()));
        store.loadMasks(model);
        store.params().assign(Nd4j.createFromArray(params));
        vectors.forEach((name, vector) -> vector.assign(Nd4j.createFromArray(optimizerState.get(name))));
        optimizer.restoreStepCount(optimizerSteps);
        recurrentState.restoreInto(arch, state);
        batches.skip(batchesDrawn);
    }

    private static boolean[] mask(Path file, SafetensorsTensor t) {
        if (t.dtype() != SafetensorsDType.U8) {
            throw new BadFileException(file, "mask '" + t.name() + "' must be U8, found " + t.dtype());
        }
        ByteBuffer data = t.data();
        boolean[] keep = new boolean[data.remaining()];
        for (int i = 0; i < keep.length; i++) {
            byte b = data.get(i);
            if (b != 0 && b != 1) {
                throw new BadFileException(file, "mask '" + t.name() + "' holds " + (b & 0xff) + " at " + i
                        + ", expected 0 or 1");
            }
            keep[i] = b == 1;
        }
        return keep;
    }

    private static byte[] toBytes(boolean[] keep) {
        byte[] out = new byte[keep.length];
        for (int i = 0; i < keep.length; i++) {
            out[i] = (byte) (keep[i] ? 1 : 0);
        }
        return out;
    }

    private static byte[] historyBytes(List<TrainResult.Point> points) {
        ByteBuffer out = ByteBuffer.allocate(points.size() * POINT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (TrainResult.Point p : points) {
            out.putLong(p.step()).putDouble(p.trainBpc()).putDouble(p.sparsity()).putDouble(p.bpcVal())
                    .putDouble(p.millis());
        }
        return out.array();
    }

    private static List<TrainResult.Point> history(Path file, SafetensorsTensor t) {
        if (t.dtype() != SafetensorsDType.U8 || t.elementCount() % POINT_BYTES != 0) {
            throw new BadFileException(file, "tensor '" + HISTORY + "' must be U8 with a multiple of " + POINT_BYTES
                    + " bytes, found " + t.dtype() + " with " + t.elementCount());
        }
        ByteBuffer in = t.data();
        List<TrainResult.Point> points = new ArrayList<>();
        while (in.remaining() >= POINT_BYTES) {
            long step = in.getLong();
            if (step != points.size()) {
                throw new BadFileException(file, "history point " + points.size() + " is for step " + step);
            }
            points.add(new TrainResult.Point(step, in.getDouble(), in.getDouble(), in.getDouble(), in.getDouble()));
        }
        return points;
    }
}
