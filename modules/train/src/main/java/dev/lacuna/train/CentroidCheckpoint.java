package dev.lacuna.train;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

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

    static final String FORMAT_KEY = "lacuna.format";
    static final String RUN_KEY = "lacuna.resume.run";
    static final String STEPS_KEY = "lacuna.resume.completed_steps";
    static final String DRAWN_KEY = "lacuna.resume.batches_drawn";
    static final String CENTROIDS = "centroids";
    static final String HIDDEN_PREFIX = "state.h.";
    static final String CELL_PREFIX = "state.c.";
    /** Bytes per centroid: value, first and second Adam moment, each a double. */
    static final int CENTROID_BYTES = 3 * Double.BYTES;

    private final Path source;
    final String runFingerprint;
    final long completedSteps;
    final long batchesDrawn;
    /** Per centroid, in the fine-tuner's fixed order: value, m, v. */
    final double[] centroids;
    final List<float[]> hidden;
    final List<float[]> cells;

    CentroidCheckpoint(Path source, String runFingerprint, long completedSteps, long batchesDrawn, double[] centroids,
                       List<float[]> hidden, List<float[]> cells) {
        this.source = source;
        this.runFingerprint = Objects.requireNonNull(runFingerprint, "runFingerprint");
        this.completedSteps = completedSteps;
        this.batchesDrawn = batchesDrawn;
        this.centroids = centroids;
        this.hidden = List.copyOf(hidden);
        this.cells = List.copyOf(cells);
    }

    /** The checkpoint file that belongs to an output: {@code <out>.quantize.resume} in the same directory. */
    public static Path besideOutput(Path out) {
        Path name = Objects.requireNonNull(out, "out").getFileName();
        if (name == null) {
            throw new IllegalArgumentException("output path has no file name: " + out);
        }
        return out.resolveSibling(name + SUFFIX);
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
        SafetensorsWriter writer = new SafetensorsWriter()
                .putMetadata(FORMAT_KEY, FORMAT)
                .putMetadata(RUN_KEY, runFingerprint)
                .putMetadata(STEPS_KEY, Long.toString(completedSteps))
                .putMetadata(DRAWN_KEY, Long.toString(batchesDrawn));
        ByteBuffer bytes = ByteBuffer.allocate(centroids.length * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asDoubleBuffer().put(centroids);
        writer.addU8(CENTROIDS, new int[] {bytes.capacity()}, bytes.array());
        for (int i = 0; i < hidden.size(); i++) {
            writer.addF32(HIDDEN_PREFIX + i, new int[] {hidden.get(i).length}, hidden.get(i));
        }
        for (int i = 0; i < cells.size(); i++) {
            writer.addF32(CELL_PREFIX + i, new int[] {cells.get(i).length}, cells.get(i));
        }
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
        if (!FORMAT.equals(meta.get(FORMAT_KEY))) {
            throw new BadFileException(file, "is not a Lacuna centroid fine-tuning checkpoint: metadata " + FORMAT_KEY
                    + " is " + meta.get(FORMAT_KEY) + ", expected " + FORMAT);
        }
        String run = meta.get(RUN_KEY);
        if (run == null) {
            throw new BadFileException(file, "metadata " + RUN_KEY + " is missing");
        }
        long completed = nonNegativeLong(file, meta, STEPS_KEY);
        long drawn = nonNegativeLong(file, meta, DRAWN_KEY);
        double[] centroids = null;
        Map<Integer, float[]> hidden = new TreeMap<>();
        Map<Integer, float[]> cells = new TreeMap<>();
        for (SafetensorsTensor t : content.tensors().values()) {
            String name = t.name();
            if (name.equals(CENTROIDS)) {
                centroids = centroids(file, t);
            } else if (name.startsWith(HIDDEN_PREFIX)) {
                hidden.put(index(file, name, HIDDEN_PREFIX), floats(file, t));
            } else if (name.startsWith(CELL_PREFIX)) {
                cells.put(index(file, name, CELL_PREFIX), floats(file, t));
            } else {
                throw new BadFileException(file, "unexpected tensor '" + name + "' in a centroid checkpoint");
            }
        }
        if (centroids == null) {
            throw new BadFileException(file, "has no '" + CENTROIDS + "' tensor");
        }
        return new CentroidCheckpoint(file, run, completed, drawn, centroids, ordered(file, hidden, HIDDEN_PREFIX),
                ordered(file, cells, CELL_PREFIX));
    }

    /**
     * @throws InvalidOptionException naming {@code --resume} when this checkpoint is of another run
     * @throws BadFileException       when it claims to have completed the whole run
     */
    void checkBelongsTo(String fingerprint, long totalSteps) {
        String where = source != null ? source.toString() : "the checkpoint";
        if (!runFingerprint.equals(fingerprint)) {
            throw new InvalidOptionException("--resume", where + " was written by a different centroid fine-tuning"
                    + " run (the input model, the data or the settings differ); delete it or run without --resume");
        }
        if (completedSteps >= totalSteps) {
            throw new BadFileException(source, "records " + completedSteps + " completed steps, but the run has "
                    + totalSteps);
        }
    }

    /** Snapshot at the end of a step. */
    static CentroidCheckpoint capture(String fingerprint, long completed, double[] centroids, RnnState state,
                                      Architecture arch, CharBatches batches) {
        List<float[]> hidden = new ArrayList<>();
        List<float[]> cells = new ArrayList<>();
        for (int l = 0; l < arch.layers(); l++) {
            for (int d = 0; d < arch.directions(); d++) {
                hidden.add(flatten(state.hidden(l, d)));
                if (state.hasCell()) {
                    cells.add(flatten(state.cell(l, d)));
                }
            }
        }
        return new CentroidCheckpoint(null, fingerprint, completed, batches.drawn(), centroids.clone(), hidden, cells);
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
        int layerDirections = arch.layers() * arch.directions();
        int stateLength = state.batch() * arch.hiddenSize();
        expectStates(HIDDEN_PREFIX, hidden, layerDirections, stateLength);
        expectStates(CELL_PREFIX, cells, state.hasCell() ? layerDirections : 0, stateLength);
        int i = 0;
        for (int l = 0; l < arch.layers(); l++) {
            for (int d = 0; d < arch.directions(); d++, i++) {
                state.setHidden(l, d, unflatten(hidden.get(i), state.batch()));
                if (state.hasCell()) {
                    state.setCell(l, d, unflatten(cells.get(i), state.batch()));
                }
            }
        }
        batches.skip(batchesDrawn);
    }

    private void expectStates(String prefix, List<float[]> states, int count, int length) {
        if (states.size() != count) {
            throw new BadFileException(source, "has " + states.size() + " '" + prefix + "' tensors, the model needs "
                    + count);
        }
        for (int i = 0; i < count; i++) {
            if (states.get(i).length != length) {
                throw new BadFileException(source, "tensor '" + prefix + i + "' has " + states.get(i).length
                        + " values, the run needs " + length + "; it does not belong to this model");
            }
        }
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

    private static float[] floats(Path file, SafetensorsTensor t) {
        if (t.dtype() != SafetensorsDType.F32) {
            throw new BadFileException(file, "tensor '" + t.name() + "' must be F32, found " + t.dtype());
        }
        return t.toFloats();
    }

    private static long nonNegativeLong(Path file, Map<String, String> meta, String key) {
        String value = meta.get(key);
        try {
            long parsed = value == null ? -1 : Long.parseLong(value);
            if (parsed >= 0) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new BadFileException(file, "metadata " + key + " must be an integer >= 0, found '" + value + "'");
    }

    private static int index(Path file, String name, String prefix) {
        try {
            int i = Integer.parseInt(name.substring(prefix.length()));
            if (i >= 0) {
                return i;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new BadFileException(file, "tensor '" + name + "' must end in a layer-direction index");
    }

    private static List<float[]> ordered(Path file, Map<Integer, float[]> byIndex, String prefix) {
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < byIndex.size(); i++) {
            float[] values = byIndex.get(i);
            if (values == null) {
                throw new BadFileException(file, "tensor '" + prefix + i + "' is missing");
            }
            out.add(values);
        }
        return out;
    }

    private static float[] flatten(float[][] rows) {
        int width = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[rows.length * width];
        for (int b = 0; b < rows.length; b++) {
            System.arraycopy(rows[b], 0, flat, b * width, width);
        }
        return flat;
    }

    private static float[][] unflatten(float[] flat, int rows) {
        int width = flat.length / rows;
        float[][] out = new float[rows][width];
        for (int b = 0; b < rows; b++) {
            System.arraycopy(flat, b * width, out[b], 0, width);
        }
        return out;
    }
}
