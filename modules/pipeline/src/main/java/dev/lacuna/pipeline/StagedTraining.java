package dev.lacuna.pipeline;

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
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.TrainResult;
import dev.lacuna.train.Trainer;
import dev.lacuna.train.TrainingCheckpoint;
import dev.lacuna.train.TrainingListener;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * Trainings run one after another on one model and one step axis (Han's prune-retrain rounds; a single fine-tuning
 * is one stage), recording the threshold of every mask refresh, and resumable across and within stages (issue #8
 * item 4).
 *
 * <p>The checkpoint is one file: the current stage's {@link TrainingCheckpoint}, extended (tensors under
 * {@link TrainingCheckpoint#EXTENSION_PREFIX}) with the stage index, the model as it was when that stage started
 * (the trainer's own fingerprint is taken from it), the finished stages' steps, seconds and history, the thresholds
 * recorded so far, and a fingerprint of the whole run. Nothing is written between stages: a run killed there
 * resumes from the previous stage's last checkpoint and redoes its remaining steps, which is deterministic.
 */
final class StagedTraining {
    static final String FORMAT = "lacuna-stages/1";
    static final String FORMAT_KEY = "lacuna.stages.format";
    static final String RUN_KEY = "lacuna.stages.run";
    static final String STAGE_KEY = "lacuna.stages.stage";
    static final String STEPS_KEY = "lacuna.stages.finished_steps";
    static final String SECONDS_KEY = "lacuna.stages.finished_train_seconds";
    static final String PRUNING_SECONDS_KEY = "lacuna.stages.finished_pruning_seconds";
    static final String START_WEIGHT = TrainingCheckpoint.EXTENSION_PREFIX + "start.weight.";
    static final String START_MASK = TrainingCheckpoint.EXTENSION_PREFIX + "start.mask.";
    static final String HISTORY = TrainingCheckpoint.EXTENSION_PREFIX + "history";
    static final String THRESHOLDS = TrainingCheckpoint.EXTENSION_PREFIX + "thresholds";
    private static final int POINT_BYTES = 8 * 5;
    private static final int THRESHOLD_BYTES = 8 * 2;

    /** One training: a policy (null to train with the masks fixed) and its settings. */
    record Stage(PruningPolicy policy, TrainConfig config) {
    }

    /**
     * The stages as one run.
     *
     * @param training   steps and seconds summed, the last stage's held-out bpc, histories on one step axis
     * @param thresholds mask-refresh step (on that axis) to effective threshold, see {@link RecordingPolicy}
     */
    record Result(TrainResult training, TreeMap<Long, Double> thresholds) {
    }

    private final Model model;
    private final CharCorpus corpus;
    private final List<Stage> stages;
    private final IntFunction<TrainingListener> listeners;
    private Path file;
    private Checkpoints checkpoints = Checkpoints.NONE;

    /**
     * @param model     trained in place, from the first stage on
     * @param listeners the progress listener of each stage (1-based), asked for as the stage begins, while the
     *                  model holds that stage's starting weights, also when a run resumes inside the stage
     */
    StagedTraining(Model model, CharCorpus corpus, List<Stage> stages, IntFunction<TrainingListener> listeners) {
        this.model = model;
        this.corpus = corpus;
        this.stages = List.copyOf(stages);
        this.listeners = listeners;
    }

    /** Checkpoints to {@code file} and resumes from it as {@code checkpoints} asks. */
    StagedTraining checkpoints(Path file, Checkpoints checkpoints) {
        this.file = file;
        this.checkpoints = checkpoints;
        return this;
    }

    /**
     * Runs the stages, or what remains of them after the checkpoint when resuming.
     *
     * @throws InvalidOptionException naming {@code --resume} when the checkpoint belongs to another run
     * @throws BadFileException       naming the checkpoint when it is damaged or does not fit the model
     */
    Result run() {
        boolean resuming = checkpoints.resume() && file != null && Files.exists(file);
        boolean writing = checkpoints.every() > 0 && file != null;
        // Taken before anything changes the model, so that a resumed run computes the same.
        String run = resuming || writing ? fingerprint() : null;
        Progress progress = new Progress();
        TrainingCheckpoint within = null;
        int first = 0;
        if (resuming) {
            SafetensorsFile content = SafetensorsFile.read(file);
            first = progress.restore(content, run, model, stages.size());
            within = TrainingCheckpoint.read(content);
        }
        for (int i = first; i < stages.size(); i++) {
            Stage stage = stages.get(i);
            int index = i;
            Map<String, float[]> startWeights = new LinkedHashMap<>();
            Map<String, boolean[]> startMasks = new LinkedHashMap<>();
            if (writing) {
                for (TensorSpec spec : model.architecture().tensors()) {
                    startWeights.put(spec.name(), model.tensor(spec.name()).data().clone());
                }
                model.masks().forEach((name, keep) -> startMasks.put(name, keep.clone()));
            }
            PruningPolicy policy = stage.policy() == null ? null
                    : new RecordingPolicy(stage.policy(), progress.steps, progress.thresholds);
            Trainer trainer = new Trainer(model, corpus, stage.config(), policy, listeners.apply(i + 1));
            if (writing) {
                trainer.checkpointEvery(checkpoints.every(), checkpoint -> checkpoint.write(file, writer ->
                        progress.write(writer, run, index, startWeights, startMasks)));
            }
            if (within != null) {
                trainer.resumeFrom(within);
                within = null;
            }
            progress.add(trainer.run());
        }
        TrainResult training = new TrainResult(model, progress.steps, progress.seconds,
                progress.seconds > 0 ? progress.steps / progress.seconds : 0, progress.pruningSeconds, progress.bpc,
                progress.history);
        return new Result(training, progress.thresholds);
    }

    /** SHA-256 of the first stage's trainer fingerprint (model, text, settings, policy) and every stage's settings. */
    private String fingerprint() {
        Stage firstStage = stages.get(0);
        StringBuilder text = new StringBuilder(TrainingCheckpoint.fingerprint(model, corpus, firstStage.config(),
                firstStage.policy()));
        text.append('\n').append(stages.size());
        for (Stage stage : stages) {
            text.append('\n').append(stage.config());
            text.append('\n').append(stage.policy() == null ? "no policy"
                    : stage.policy().method() + " " + stage.policy().hyperparameters());
        }
        return Sha256.ofText(text.toString());
    }

    /** What the finished stages produced, and the thresholds recorded so far. */
    private static final class Progress {
        long steps;
        double seconds;
        double pruningSeconds;
        double bpc = Double.NaN;
        final List<TrainResult.Point> history = new ArrayList<>();
        final TreeMap<Long, Double> thresholds = new TreeMap<>();

        void add(TrainResult result) {
            for (TrainResult.Point p : result.history()) {
                history.add(new TrainResult.Point(steps + p.step(), p.trainBpc(), p.sparsity(), p.bpcVal(),
                        p.millis()));
            }
            steps += result.steps();
            seconds += result.trainSeconds();
            pruningSeconds += result.pruningSeconds();
            bpc = result.bpcVal();
        }

        void write(SafetensorsWriter writer, String run, int stage, Map<String, float[]> startWeights,
                   Map<String, boolean[]> startMasks) {
            writer.putMetadata(FORMAT_KEY, FORMAT)
                    .putMetadata(RUN_KEY, run)
                    .putMetadata(STAGE_KEY, Integer.toString(stage))
                    .putMetadata(STEPS_KEY, Long.toString(steps))
                    .putMetadata(SECONDS_KEY, Double.toString(seconds))
                    .putMetadata(PRUNING_SECONDS_KEY, Double.toString(pruningSeconds));
            startWeights.forEach((name, w) -> writer.addF32(START_WEIGHT + name, new int[] {w.length}, w));
            startMasks.forEach((name, keep) -> {
                byte[] bytes = new byte[keep.length];
                for (int i = 0; i < keep.length; i++) {
                    bytes[i] = (byte) (keep[i] ? 1 : 0);
                }
                writer.addU8(START_MASK + name, new int[] {bytes.length}, bytes);
            });
            ByteBuffer points = ByteBuffer.allocate(history.size() * POINT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (TrainResult.Point p : history) {
                points.putLong(p.step()).putDouble(p.trainBpc()).putDouble(p.sparsity()).putDouble(p.bpcVal())
                        .putDouble(p.millis());
            }
            writer.addU8(HISTORY, new int[] {points.capacity()}, points.array());
            ByteBuffer refreshes = ByteBuffer.allocate(thresholds.size() * THRESHOLD_BYTES)
                    .order(ByteOrder.LITTLE_ENDIAN);
            thresholds.forEach((step, threshold) -> refreshes.putLong(step).putDouble(threshold));
            writer.addU8(THRESHOLDS, new int[] {refreshes.capacity()}, refreshes.array());
        }

        /**
         * Takes back the finished stages' results and puts the model in the state its stage started from.
         *
         * @return the 0-based index of the stage the checkpoint was written in
         */
        int restore(SafetensorsFile content, String run, Model model, int stageCount) {
            Path source = content.path();
            Map<String, String> meta = content.metadata();
            if (!FORMAT.equals(meta.get(FORMAT_KEY)) || !run.equals(meta.get(RUN_KEY))) {
                throw new InvalidOptionException("--resume", source + " was written by a different run (the input"
                        + " model, the data, the method or the settings differ); delete it or run without --resume");
            }
            int stage = (int) number(source, meta, STAGE_KEY, stageCount - 1);
            steps = number(source, meta, STEPS_KEY, Long.MAX_VALUE);
            seconds = seconds(source, meta, SECONDS_KEY);
            pruningSeconds = seconds(source, meta, PRUNING_SECONDS_KEY);
            Map<String, SafetensorsTensor> tensors = content.tensors();
            readHistory(source, bytes(source, tensors, HISTORY));
            readThresholds(source, bytes(source, tensors, THRESHOLDS));

            Map<String, float[]> weights = new LinkedHashMap<>();
            Map<String, boolean[]> masks = new LinkedHashMap<>();
            for (TensorSpec spec : model.architecture().tensors()) {
                SafetensorsTensor w = tensors.get(START_WEIGHT + spec.name());
                if (w == null || w.dtype() != SafetensorsDType.F32 || w.elementCount() != spec.elementCount()) {
                    throw new BadFileException(source, "has no F32 tensor " + START_WEIGHT + spec.name() + " of "
                            + spec.elementCount() + " values; it does not belong to this model");
                }
                weights.put(spec.name(), w.toFloats());
                if (tensors.containsKey(START_MASK + spec.name())) {
                    ByteBuffer bytes = bytes(source, tensors, START_MASK + spec.name());
                    if (bytes.remaining() != spec.elementCount()) {
                        throw new BadFileException(source, "mask " + START_MASK + spec.name() + " has "
                                + bytes.remaining() + " values, the model needs " + spec.elementCount());
                    }
                    boolean[] keep = new boolean[bytes.remaining()];
                    for (int i = 0; i < keep.length; i++) {
                        keep[i] = bytes.get(i) != 0;
                    }
                    masks.put(spec.name(), keep);
                }
            }
            weights.forEach((name, w) -> System.arraycopy(w, 0, model.tensor(name).data(), 0, w.length));
            model.removeMasks();
            masks.forEach(model::setMask);
            return stage;
        }

        private void readHistory(Path source, ByteBuffer in) {
            if (in.remaining() % POINT_BYTES != 0 || in.remaining() / POINT_BYTES != steps) {
                throw new BadFileException(source, HISTORY + " holds " + in.remaining() + " bytes, expected "
                        + POINT_BYTES + " per finished step (" + steps + ")");
            }
            while (in.hasRemaining()) {
                history.add(new TrainResult.Point(in.getLong(), in.getDouble(), in.getDouble(), in.getDouble(),
                        in.getDouble()));
            }
        }

        private void readThresholds(Path source, ByteBuffer in) {
            if (in.remaining() % THRESHOLD_BYTES != 0) {
                throw new BadFileException(source, THRESHOLDS + " holds " + in.remaining() + " bytes, not a multiple"
                        + " of " + THRESHOLD_BYTES);
            }
            while (in.hasRemaining()) {
                thresholds.put(in.getLong(), in.getDouble());
            }
        }

        private static ByteBuffer bytes(Path source, Map<String, SafetensorsTensor> tensors, String name) {
            SafetensorsTensor t = tensors.get(name);
            if (t == null || t.dtype() != SafetensorsDType.U8) {
                throw new BadFileException(source, "has no U8 tensor " + name);
            }
            return t.data().order(ByteOrder.LITTLE_ENDIAN);
        }

        private static long number(Path source, Map<String, String> meta, String key, long max) {
            String value = meta.get(key);
            try {
                long parsed = Long.parseLong(String.valueOf(value));
                if (parsed >= 0 && parsed <= max) {
                    return parsed;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new BadFileException(source, "metadata " + key + " must be an integer in [0, " + max + "], found '"
                    + value + "'");
        }

        private static double seconds(Path source, Map<String, String> meta, String key) {
            String value = meta.get(key);
            try {
                double parsed = Double.parseDouble(String.valueOf(value));
                if (parsed >= 0 && Double.isFinite(parsed)) {
                    return parsed;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new BadFileException(source, "metadata " + key + " must be a number >= 0, found '" + value + "'");
        }
    }
}
