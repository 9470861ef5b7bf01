package dev.lacuna.train;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.io.SafetensorsDType;
import dev.lacuna.io.SafetensorsTensor;
import dev.lacuna.io.SafetensorsWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * What the resume checkpoints of this package ({@link TrainingCheckpoint}, {@link CentroidCheckpoint}) have in
 * common: the file's place beside the output, the metadata every one of them starts with (format, run fingerprint,
 * completed steps, minibatches drawn), the check that a checkpoint belongs to the run resuming from it, and the
 * parsing of their metadata and tensors into typed values, every failure a {@link BadFileException} naming the file.
 */
final class CheckpointFields {
    static final String FORMAT_KEY = "lacuna.format";
    static final String RUN_KEY = "lacuna.resume.run";
    static final String STEPS_KEY = "lacuna.resume.completed_steps";
    static final String DRAWN_KEY = "lacuna.resume.batches_drawn";

    private CheckpointFields() {
    }

    /** {@code out}'s file name with {@code suffix} appended, in the same directory. */
    static Path besideOutput(Path out, String suffix) {
        Path name = Objects.requireNonNull(out, "out").getFileName();
        if (name == null) {
            throw new IllegalArgumentException("output path has no file name: " + out);
        }
        return out.resolveSibling(name + suffix);
    }

    /** A writer holding the metadata every resume checkpoint starts with. */
    static SafetensorsWriter writerWithHeader(String format, String runFingerprint, long completedSteps,
                                              long batchesDrawn) {
        return new SafetensorsWriter()
                .putMetadata(FORMAT_KEY, format)
                .putMetadata(RUN_KEY, runFingerprint)
                .putMetadata(STEPS_KEY, Long.toString(completedSteps))
                .putMetadata(DRAWN_KEY, Long.toString(batchesDrawn));
    }

    /**
     * @param kind what a file of {@code format} is, for the message ("training checkpoint")
     * @throws BadFileException when {@code meta} does not name {@code format}
     */
    static void requireFormat(Path file, Map<String, String> meta, String format, String kind) {
        if (!format.equals(meta.get(FORMAT_KEY))) {
            throw new BadFileException(file, "is not a Lacuna " + kind + ": metadata " + FORMAT_KEY + " is "
                    + meta.get(FORMAT_KEY) + ", expected " + format);
        }
    }

    /**
     * Refuses to resume a run from a checkpoint another run wrote, or from one that has nothing left to do.
     *
     * @param source   the checkpoint's file, or null when it was captured in memory
     * @param run      what kind of run wrote it, for the message ("run", "centroid fine-tuning run")
     * @throws InvalidOptionException naming {@code --resume} when the fingerprints differ
     * @throws BadFileException       when the checkpoint claims to have completed the whole run
     */
    static void checkBelongsTo(Path source, String run, String savedFingerprint, String runFingerprint,
                               long completedSteps, long totalSteps) {
        String where = source != null ? source.toString() : "the checkpoint";
        if (!savedFingerprint.equals(runFingerprint)) {
            throw new InvalidOptionException("--resume", where + " was written by a different " + run
                    + " (the input model, the data or the settings differ); delete it or run without --resume");
        }
        if (completedSteps >= totalSteps) {
            throw new BadFileException(source, "records " + completedSteps + " completed steps, but the run has "
                    + totalSteps);
        }
    }

    static String required(Path file, Map<String, String> meta, String key) {
        String value = meta.get(key);
        if (value == null) {
            throw new BadFileException(file, "metadata " + key + " is missing");
        }
        return value;
    }

    static long nonNegativeLong(Path file, Map<String, String> meta, String key) {
        String value = required(file, meta, key);
        try {
            long parsed = Long.parseLong(value);
            if (parsed >= 0) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new BadFileException(file, "metadata " + key + " must be an integer >= 0, found '" + value + "'");
    }

    static double fraction(Path file, Map<String, String> meta, String key) {
        String value = required(file, meta, key);
        try {
            double parsed = Double.parseDouble(value);
            if (parsed >= 0 && parsed <= 1) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new BadFileException(file, "metadata " + key + " must be a number in [0, 1], found '" + value + "'");
    }

    static float[] floats(Path file, SafetensorsTensor t) {
        if (t.dtype() != SafetensorsDType.F32) {
            throw new BadFileException(file, "tensor '" + t.name() + "' must be F32, found " + t.dtype());
        }
        return t.toFloats();
    }

    /** @throws BadFileException when a saved tensor's length is not the one the resuming run needs */
    static void expectLength(Path file, String tensor, long found, long expected) {
        if (found != expected) {
            throw new BadFileException(file, "tensor '" + tensor + "' has " + found + " values, the run needs "
                    + expected + "; it does not belong to this model");
        }
    }
}
