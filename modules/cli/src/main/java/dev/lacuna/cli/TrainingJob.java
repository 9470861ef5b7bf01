package dev.lacuna.cli;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.SparsityReport;
import dev.lacuna.io.Sha256;
import dev.lacuna.pipeline.Json;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.TrainResult;
import dev.lacuna.train.Trainer;
import dev.lacuna.train.TrainingCheckpoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One training run, dense or with a pruning policy, and what it leaves behind: the trained model stamped with
 * provenance, and the report that {@code --report-json} and {@code --json} print. Shared by {@code train},
 * {@code prune} and {@code demo} so that all three report the same way.
 */
final class TrainingJob {
    /** Method name of a run without pruning. */
    static final String DENSE = "dense";

    private final Model model;
    private final Path data;
    private final CharCorpus corpus;
    private final TrainConfig config;
    private final PruningPolicy policy;
    private final Double predictedSparsity;
    private final boolean includeEmbedding;
    private final Double bpcValInput;

    /**
     * @param policy            null for dense training
     * @param predictedSparsity the policy's prediction, null without one
     * @param includeEmbedding  whether the embedding is among the pruned tensors (it then counts in the sparsity)
     * @param bpcValInput       held-out bpc of the input model before this run, null when the model is new
     */
    TrainingJob(Model model, Path data, CharCorpus corpus, TrainConfig config, PruningPolicy policy,
                Double predictedSparsity, boolean includeEmbedding, Double bpcValInput) {
        this.model = model;
        this.data = data;
        this.corpus = corpus;
        this.config = config;
        this.policy = policy;
        this.predictedSparsity = predictedSparsity;
        this.includeEmbedding = includeEmbedding;
        this.bpcValInput = bpcValInput;
    }

    /** Trains, stamps provenance on the trained model and returns the outcome. */
    Outcome run(ProgressListener progress) {
        return run(new Trainer(model, corpus, config, policy, progress), progress);
    }

    /**
     * Like {@link #run(ProgressListener)}, checkpointing to {@code <out>.resume} and resuming from it as the options
     * ask. A missing checkpoint with {@code --resume} is not an error: the run starts from step 0 and says so.
     *
     * @param notes where the resume notes go (stderr)
     */
    Outcome run(ProgressListener progress, ResumeOptions resumption, Path out, PrintWriter notes) {
        Trainer trainer = new Trainer(model, corpus, config, policy, progress);
        Path file = TrainingCheckpoint.besideOutput(out);
        if (resumption.checkpointEvery != null) {
            trainer.checkpointEvery(resumption.checkpointEvery, file);
        }
        if (resumption.resume) {
            if (Files.exists(file)) {
                TrainingCheckpoint checkpoint = TrainingCheckpoint.read(file);
                notes.println("resuming from " + file + " after step " + checkpoint.completedSteps());
                trainer.resumeFrom(checkpoint);
            } else {
                notes.println("note: no checkpoint " + file + " to resume from; starting from step 0");
            }
            notes.flush();
        }
        return run(trainer, progress);
    }

    /**
     * Deletes {@code <out>.resume} once the output is written: the run is complete, and a stale checkpoint would
     * only be resumed into the same result. A failure to delete is reported, not fatal (the output is fine).
     */
    static void discardCheckpoint(ResumeOptions resumption, Path out, PrintWriter notes) {
        if (!resumption.requested()) {
            return;
        }
        Path file = TrainingCheckpoint.besideOutput(out);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            notes.println("note: could not delete the finished run's checkpoint " + file + ": " + e.getMessage());
        }
    }

    private Outcome run(Trainer trainer, ProgressListener progress) {
        TrainResult result;
        try {
            result = trainer.run();
        } finally {
            // Ends a redrawn bar with a newline even when training fails, so the error starts its own line.
            progress.onFinish();
        }
        return outcomeOf(result);
    }

    /**
     * Stamps and reports a result produced outside this job's single trainer run (Han's rounds, or oneshot's
     * prune without training), so every method reports the same way.
     */
    Outcome outcomeOf(TrainResult result) {
        Outcome outcome = new Outcome(result, Sha256.ofFile(data));
        outcome.stampProvenance();
        return outcome;
    }

    String method() {
        return policy == null ? DENSE : policy.method();
    }

    Map<String, Object> hyperparameters() {
        return policy == null ? Map.of() : policy.hyperparameters();
    }

    /** What a finished run produced. */
    final class Outcome {
        private final TrainResult result;
        private final String dataSha256;

        private Outcome(TrainResult result, String dataSha256) {
            this.result = result;
            this.dataSha256 = dataSha256;
        }

        Model model() {
            return result.model();
        }

        TrainResult result() {
            return result;
        }

        SparsityReport sparsity() {
            return result.model().sparsity(includeEmbedding);
        }

        Double predictedSparsity() {
            return predictedSparsity;
        }

        Double bpcValInput() {
            return bpcValInput;
        }

        /** Provenance in the saved model's metadata (design.md: version, method, hyperparameters, sparsity). */
        private void stampProvenance() {
            Map<String, String> meta = result.model().metadata();
            meta.put("lacuna.version", Version.current());
            meta.put("lacuna.method", method());
            meta.put("lacuna.hyperparameters", Json.compact(hyperparameters()));
            meta.put("lacuna.training", Json.compact(trainingSettings()));
            meta.put("lacuna.sparsity", Double.toString(sparsity().sparsity()));
            meta.put("lacuna.bpc_val", Double.toString(result.bpcVal()));
            meta.put("lacuna.seed", Long.toString(config.seed()));
            meta.put("lacuna.data_sha256", dataSha256);
            meta.put("lacuna.train_steps", Long.toString(result.steps()));
        }

        /** The report: every field of the brief's {@code --report-json}, in a stable order. */
        Map<String, Object> report() {
            Architecture arch = result.model().architecture();
            SparsityReport sparsity = sparsity();
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("lacuna_version", Version.current());
            r.put("method", method());
            r.put("cell", arch.cell().id());
            r.put("layers", arch.layers());
            r.put("hidden", arch.hiddenSize());
            r.put("embed", arch.embedDim());
            r.put("bidirectional", arch.bidirectional());
            r.put("vocab_size", arch.vocabSize());
            r.put("params_total", sparsity.paramsTotal());
            r.put("params_nonzero", sparsity.paramsNonzero());
            r.put("prunable_total", sparsity.prunableTotal());
            r.put("prunable_nonzero", sparsity.prunableNonzero());
            r.put("sparsity", sparsity.sparsity());
            r.put("sparsity_predicted", predictedSparsity);
            r.put("bpc_val", result.bpcVal());
            r.put("bpc_val_input", bpcValInput);
            r.put("train_steps", result.steps());
            r.put("train_seconds", result.trainSeconds());
            r.put("steps_per_second", result.stepsPerSecond());
            r.put("ms_per_step_median", result.medianStepMillis());
            r.put("pruning_seconds", result.pruningSeconds());
            // Share of the training time spent refreshing and re-applying masks (issue target: at most 3%).
            r.put("pruning_overhead", result.trainSeconds() > 0 ? result.pruningSeconds() / result.trainSeconds() : 0);
            r.put("blas_threads", Nd4j.factory().blas().getMaxThreads());
            r.put("seed", config.seed());
            r.put("data", data.toString());
            r.put("data_sha256", dataSha256);
            r.put("hyperparameters", hyperparameters());
            r.put("training", trainingSettings());
            r.put("per_tensor", perTensor(sparsity));
            r.put("history", history(result));
            return r;
        }
    }

    /** The training settings as resolved, with option-style names. */
    Map<String, Object> trainingSettings() {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("steps", config.steps());
        t.put("batch", config.batch());
        t.put("seq", config.seq());
        t.put("optimizer", config.optimizer().id());
        t.put("lr", config.lr());
        t.put("momentum", config.momentum());
        t.put("clip", config.clip());
        t.put("lr_decay", config.lrDecay());
        t.put("lr_decay_every", config.lrDecayEvery());
        t.put("eval_every", config.evalEvery());
        t.put("seed", config.seed());
        return t;
    }

    /** One entry per step; the held-out bpc only where an evaluation ran (JSON has no NaN). */
    static List<Map<String, Object>> history(TrainResult result) {
        List<Map<String, Object>> points = new ArrayList<>();
        for (TrainResult.Point p : result.history()) {
            Map<String, Object> point = new LinkedHashMap<>();
            point.put("step", p.step());
            point.put("train_bpc", p.trainBpc());
            point.put("sparsity", p.sparsity());
            point.put("ms", p.millis());
            if (p.evaluated()) {
                point.put("bpc_val", p.bpcVal());
            }
            points.add(point);
        }
        return points;
    }

    /** Name, shape, size, non-zeros and sparsity of every tensor, and whether it counts as prunable. */
    static List<Map<String, Object>> perTensor(SparsityReport sparsity) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (SparsityReport.Entry e : sparsity.perTensor()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", e.name());
            row.put("shape", e.shape());
            row.put("role", e.role().name().toLowerCase(java.util.Locale.ROOT));
            row.put("prunable", e.prunable());
            row.put("size", e.size());
            row.put("nonzero", e.nonzero());
            row.put("sparsity", e.sparsity());
            rows.add(row);
        }
        return rows;
    }
}
