package dev.lacuna.train;

import static dev.lacuna.train.CheckpointFields.DRAWN_KEY;
import static dev.lacuna.train.CheckpointFields.RUN_KEY;
import static dev.lacuna.train.CheckpointFields.STEPS_KEY;
import static dev.lacuna.train.CheckpointFields.nonNegativeLong;
import static dev.lacuna.train.CheckpointFields.required;
import static dev.lacuna.train.CheckpointFields.requireFormat;
import static dev.lacuna.train.CheckpointFields.writerWithHeader;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.io.SafetensorsDType;
import dev.lacuna.io.SafetensorsFile;
import dev.lacuna.io.SafetensorsTensor;
import dev.lacuna.io.SafetensorsWriter;
import dev.lacuna.train.nn.RnnState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a {@link CentroidFineTuner} needs to continue an interrupted run so that it ends bit-identical to an
 * uninterrupted one (issue #8 item 4): every centroid's value and Adam moments, the carried recurrent state, the
 * data position (minibatches drawn; the batcher's seeded draws are replayed from it), the completed steps, and a
 * fingerprint of the run's quantized model, data and settings.
 *
 * <p>The assignments of weights to centroids and the masks are not stored: they are a pure function of the
 * quantized input model, which the fingerprint pins, so the resumed run recomputes them exactly. The centroids are
 * kept in double precision as the fine-tuner updates them, so they are stored as raw little-endian doubles (U8
 * bytes; safetensors has no portable F64 writer here), the recurrent state as F32, scalars as metadata.
 */
public final class CentroidCheckpoint {
    /** Value of the {@code lacuna.format} metadata key. */
    public static final String FORMAT = "lacuna-centroid-resume/1";
    /**
     * Suffix appended to the output's file name to name its checkpoint; distinct from
     * {@link TrainingCheckpoint#SUFFIX} so that a pruning stage and this stage of one job never share a file.
     */
    public static final String SUFFIX = ".quantize.resume";

    static final String CENTROIDS = "centroids";
    /** Bytes per centroid: value, first and second Adam moment, each a double. */
    static final int CENTROID_BYTES = 3 * Double.BYTES;

    private final Path source;
    final String runFingerprint;
    final long completedSteps;
    final long batchesDrawn;
    /** Per centroid, in the fine-tuner's fixed order: value, m, v. */
    final double[] centroids;
    final RecurrentStateTensors recurrentState;

    CentroidCheckpoint(Path source, String runFingerprint, long completedSteps, long batchesDrawn, double[] centroids,
                       RecurrentStateTensors recurrentState) {
        this.source = source;
        this.runFingerprint = Objects.requireNonNull(runFingerprint, "runFingerprint");
        this.completedSteps = completedSteps;
        this.batchesDrawn = batchesDrawn;
        this.centroids = centroids;
        this.recurrentState = Objects.requireNonNull(recurrentState, "recurrentState");
    }

    /** The checkpoint file that belongs to an output: {@code <out>.quantize.resume} in the same directory. */
    public static Path besideOutput(Path out) {
        return CheckpointFields.besideOutput(out, SUFFIX);
    }

    /** The file this checkpoint was read from, or null when it was captured in memory. */
    public Path source() {
        return source;
    }

    /** Steps the interrupted run had completed; a resumed run continues with this step index. */
    public long completedSteps() {
        return completedSteps;
    }

    /** Number of centroids (shared values) the checkpoint holds. */
    public int centroidCount() {
        return centroids.length / 3;
    }

    /**
     * Writes the checkpoint atomically (a crash while writing leaves the previous checkpoint intact).
     *
     * @throws BadFileException naming {@code target} when it cannot be written
     */
    public void write(Path target) {
        SafetensorsWriter writer = writerWithHeader(FORMAT, runFingerprint, completedSteps, batchesDrawn);
        ByteBuffer bytes = ByteBuffer.allocate(centroids.length * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asDoubleBuffer().put(centroids);
        writer.addU8(CENTROIDS, new int[] {bytes.capacity()}, bytes.array());
        recurrentState.addTo(writer);
        writer.write(target);
    }

    /**
     * Reads a checkpoint written by {@link #write}. Only its own consistency is checked here; whether it belongs to
     * a given run is checked by the fine-tuner that resumes from it.
     *
     * @throws BadFileException naming {@code file} when it is missing, malformed, or not a centroid checkpoint
     */
    public static CentroidCheckpoint read(Path file) {
        SafetensorsFile content = SafetensorsFile.read(file);
        Map<String, String> meta = content.metadata();
        requireFormat(file, meta, FORMAT, "centroid fine-tuning checkpoint");
        String run = required(file, meta, RUN_KEY);
        long completed = nonNegativeLong(file, meta, STEPS_KEY);
        long drawn = nonNegativeLong(file, meta, DRAWN_KEY);
        double[] centroids = null;
        RecurrentStateTensors.Reader recurrentState = new RecurrentStateTensors.Reader(file);
        for (SafetensorsTensor t : content.tensors().values()) {
            String name = t.name();
            if (name.equals(CENTROIDS)) {
                centroids = centroids(file, t);
            } else if (!recurrentState.accept(t)) {
                throw new BadFileException(file, "unexpected tensor '" + name + "' in a centroid checkpoint");
            }
        }
        if (centroids == null) {
            throw new BadFileException(file, "has no '" + CENTROIDS + "' tensor");
        }
        return new CentroidCheckpoint(file, run, completed, drawn, centroids, recurrentState.finish());
    }

    /**
     * @throws InvalidOptionException naming {@code --resume} when this checkpoint is of another run
     * @throws BadFileException       when it claims to have completed the whole run
     */
    void checkBelongsTo(String fingerprint, long totalSteps) {
        CheckpointFields.checkBelongsTo(source, "centroid fine-tuning run", runFingerprint, fingerprint,
                completedSteps, totalSteps);
    }

    /** Snapshot at the end of a step. */
    static CentroidCheckpoint capture(String fingerprint, long completed, double[] centroids, RnnState state,
                                      Architecture arch, CharBatches batches) {
        return new CentroidCheckpoint(null, fingerprint, completed, batches.drawn(), centroids.clone(),
                RecurrentStateTensors.capture(state, arch));
    }

    /**
     * Puts the recurrent state and the data position back as {@link #capture} saw them, after checking every size
     * against the run, so a checkpoint that does not fit leaves the run untouched. The centroids are restored by the
     * caller, which owns them.
     *
     * @param centroidCount the number of centroids the run recomputed from its input
     * @throws BadFileException when a tensor does not fit the model
     */
    void restore(int centroidCount, Architecture arch, RnnState state, CharBatches batches) {
        if (centroids.length != 3L * centroidCount) {
            throw new BadFileException(source, "holds " + centroidCount() + " centroids, the run has "
                    + centroidCount + "; it does not belong to this model");
        }
        recurrentState.checkFits(source, arch, state);
        recurrentState.restoreInto(arch, state);
        batches.skip(batchesDrawn);
    }

    private static double[] centroids(Path file, SafetensorsTensor t) {
        if (t.dtype() != SafetensorsDType.U8 || t.elementCount() % CENTROID_BYTES != 0) {
            throw new BadFileException(file, "tensor '" + CENTROIDS + "' must be U8 with a multiple of "
                    + CENTROID_BYTES + " bytes, found " + t.dtype() + " with " + t.elementCount());
        }
        ByteBuffer data = t.data().order(ByteOrder.LITTLE_ENDIAN);
        double[] values = new double[t.elementCount() / Double.BYTES];
        data.asDoubleBuffer().get(values);
        return values;
    }
}
