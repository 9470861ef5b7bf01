package dev.lacuna.pipeline.compress;

import dev.lacuna.core.Model;
import dev.lacuna.io.format.EncodingOptions;
import dev.lacuna.io.format.LacunaFormat;
import dev.lacuna.io.format.Precision;
import dev.lacuna.pipeline.Checkpoints;
import dev.lacuna.pipeline.Json;
import dev.lacuna.train.CentroidCheckpoint;
import dev.lacuna.train.CentroidFineTuner;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Trained quantization (Deep Compression §3.2; issue #4 item 3) as one resumable stage: cluster the weights into the
 * codebooks of an encoding, fine-tune the shared centroids on text with {@link CentroidFineTuner}, and record what
 * was done in the model's metadata. The CLI's {@code compress} and {@link CompressJob} both run it, so both
 * checkpoint and resume it the same way (issue #8 item 4).
 *
 * <p>Encoding the result again with the same options stores exactly the tuned centroids: it shares at most
 * 2<sup>bits</sup> values per codebook block, so the second clustering finds them unchanged.
 */
public final class TrainedQuantization {
    /** Adam learning rate of the centroids when none is given (the CLI's {@code --fine-tune-lr} default). */
    public static final double DEFAULT_LR = 1e-4;
    /** Metadata key of the fine-tuning record (JSON: steps, lr, seed, bpc before and after). */
    public static final String METADATA_KEY = "lacuna.fine_tune";

    private TrainedQuantization() {
    }

    /**
     * Quantizes {@code model} with {@code options}, fine-tunes the centroids and returns the tuned model, which
     * carries a {@value #METADATA_KEY} record.
     *
     * @param model         the model to quantize; not changed
     * @param options       a quantized encoding ({@link Precision#QUANTIZED}); its codebook layout is tuned
     * @param corpus        training text encoded with the model's vocabulary
     * @param config        steps, learning rate and seed of the fine-tuning
     * @param checkpoint    the stage's checkpoint file (a {@link CentroidCheckpoint}); unused with
     *                      {@link Checkpoints#NONE}
     * @param checkpointing how often to checkpoint, and whether to resume
     * @param notes         receives a line when resuming (or finding nothing to resume)
     * @param listener      per-step callbacks, or null
     * @throws IllegalArgumentException               when {@code options} is not quantized
     * @throws dev.lacuna.core.InvalidOptionException naming {@code --resume} when the checkpoint is of another run
     * @throws dev.lacuna.core.BadFileException       when the checkpoint is damaged or does not fit the model
     */
    public static CentroidFineTuner.Result run(Model model, EncodingOptions options, CharCorpus corpus,
                                               TrainConfig config, Path checkpoint, Checkpoints checkpointing,
                                               Consumer<String> notes, TrainingListener listener) {
        if (options.precision() != Precision.QUANTIZED) {
            throw new IllegalArgumentException("trained quantization needs a quantized encoding, found "
                    + options.precision());
        }
        Model quantized = LacunaFormat.encode(model, options).decoded();
        CentroidFineTuner tuner = new CentroidFineTuner(quantized, corpus, config, options.perGateCodebooks(),
                listener);
        if (checkpointing.every() > 0) {
            tuner.checkpointEvery(checkpointing.every(), checkpoint);
        }
        if (checkpointing.resume()) {
            if (Files.exists(checkpoint)) {
                CentroidCheckpoint saved = CentroidCheckpoint.read(checkpoint);
                notes.accept("resuming from " + checkpoint + " after step " + saved.completedSteps());
                tuner.resumeFrom(saved);
            } else {
                notes.accept("note: no checkpoint " + checkpoint + " to resume from; starting from step 0");
            }
        }
        CentroidFineTuner.Result tuned = tuner.run();
        // A LinkedHashMap, not Map.of: Map.of iterates in an order salted per JVM, and a resumed run in a new
        // process must write the same bytes as the uninterrupted one.
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("steps", config.steps());
        record.put("lr", config.lr());
        record.put("seed", config.seed());
        record.put("bpc_before", tuned.bpcBefore());
        record.put("bpc_after", tuned.bpcAfter());
        tuned.model().metadata().put(METADATA_KEY, Json.compact(record));
        return tuned;
    }
}
