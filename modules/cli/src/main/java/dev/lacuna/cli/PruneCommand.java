package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.prune.AgpPruningPolicy;
import dev.lacuna.core.prune.GradualPruningPolicy;
import dev.lacuna.core.prune.HanPruningPolicy;
import dev.lacuna.core.prune.OneShotPruningPolicy;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.onnx.OnnxPruneReport;
import dev.lacuna.onnx.OnnxPruning;
import dev.lacuna.onnx.OnnxWeights;
import dev.lacuna.onnx.SparseMode;
import dev.lacuna.pipeline.HanPruning;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.Evaluator;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.TrainResult;
import dev.lacuna.train.Trainer;
import dev.lacuna.train.TrainingCheckpoint;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lacuna prune}: fine-tunes a trained model while pruning it gradually (N17 Alg. 1). The schedule defaults
 * follow N17 Table 2 scaled to the run; without {@code --target-sparsity} and {@code --q}, q is the 90th percentile
 * of the trained weights' magnitudes, the paper's rule (algorithms.md §1(b)).
 */
@Command(name = "prune", sortOptions = false, usageHelpAutoWidth = true,
        description = "Prune a trained model by gradual magnitude pruning while fine-tuning it.")
final class PruneCommand implements Callable<Integer> {
    static final double DEFAULT_LR = 1e-3;

    @Option(names = "--model", required = true, paramLabel = "MODEL", description = "Trained model, any format"
            + " Lacuna reads. With --method oneshot an .onnx model may be any ONNX graph: its weight tensors are"
            + " pruned in place and everything else is kept.")
    Path model;

    @Option(names = "--data", paramLabel = "TEXT", description = "UTF-8 text for fine-tuning and held-out bpc"
            + " (not needed to prune an .onnx model one-shot).")
    Path data;

    @Option(names = "--method", paramLabel = "NAME", defaultValue = "gradual",
            description = "Pruning method: gradual (Narang et al. 2017; default), agp (Zhu & Gupta cubic schedule),"
                    + " han (Han et al. prune-retrain rounds), oneshot (prune once, no training) or oneshot+finetune."
                    + " All but gradual need --target-sparsity.")
    String method;

    @Option(names = "--target-sparsity", paramLabel = "S", description = "Fraction of prunable weights to remove,"
            + " in (0,1); q is re-chosen at every mask refresh so that the last one prunes exactly this fraction.")
    Double targetSparsity;

    @Option(names = "--steps", paramLabel = "S", description = "Fine-tuning steps (han: per round; oneshot: none).")
    Long steps;

    @Option(names = "--han-rounds", paramLabel = "K", defaultValue = "3", description = "han: prune-retrain rounds"
            + " (default ${DEFAULT-VALUE}); each retrains --steps steps at --lr.")
    int hanRounds;

    @Option(names = "--seed", paramLabel = "K", defaultValue = "0", description = "Random seed (default"
            + " ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "MODEL", description = "Pruned checkpoint to write.")
    Path out;

    @Option(names = "--regrow", description = "Let pruned weights return when they grow past the threshold"
            + " (the paper's text; default: masks are sticky, as in Distiller).")
    boolean regrow;

    @Option(names = "--prune-embedding", description = "Also prune the embedding (an extension of the paper).")
    boolean pruneEmbedding;

    @Option(names = "--pooled", description = "oneshot: reach the target over all weight tensors together instead"
            + " of in each tensor.")
    boolean pooled;

    @Option(names = "--sparse", paramLabel = "MODE", description = "oneshot on an .onnx model: storage of the pruned"
            + " weights, scatter (default; values and indices rebuilt by standard ops, checker-clean), initializer"
            + " (ONNX sparse_initializer) or none (zeros in place, file as large as before). Each tensor stays dense"
            + " when that is smaller.")
    String sparse;

    @Mixin
    ScheduleOptions schedule;

    @Mixin
    TrainingOptions training;

    @Mixin
    ResumeOptions resumption;

    @Mixin
    ResultOptions results;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PruningMethod chosen = PruningMethod.parse("--method", method);
        schedule.validate();
        ResultOptions.checkTarget("--out", out);
        results.checkTargets();
        if (chosen != PruningMethod.GRADUAL && targetSparsity == null) {
            throw new InvalidOptionException("--target-sparsity", "is required by --method " + chosen.id());
        }
        resumption.validate();
        if (sparse != null && !(chosen == PruningMethod.ONESHOT && isOnnx(model))) {
            throw new InvalidOptionException("--sparse", "applies to --method oneshot on an .onnx model only");
        }
        if (chosen == PruningMethod.ONESHOT) {
            resumption.rejectFor(chosen.id(), "does not train (nothing to resume)");
            if (steps != null) {
                throw new InvalidOptionException("--steps", "oneshot does not train; use --method oneshot+finetune");
            }
            return isOnnx(model) ? oneShotOnnx() : oneShot();
        }
        if (data == null) {
            throw new InvalidOptionException("--data", "is required by --method " + chosen.id()
                    + " (it fine-tunes on the text)");
        }
        if (steps == null) {
            throw new InvalidOptionException("--steps", "is required by --method " + chosen.id());
        }
        TrainConfig config = training.toConfig(steps, seed, DEFAULT_LR);

        Model dense = ModelFiles.read(model);
        CharCorpus corpus = CharCorpus.load(data, dense.vocabulary());
        long perEpoch = stepsPerEpoch(dense, corpus, config);
        if (chosen == PruningMethod.HAN) {
            return han(dense, corpus, config);
        }
        PruningPolicy policy;
        Double predicted;
        if (chosen == PruningMethod.GRADUAL) {
            GradualPruningPolicy gradual = schedule.applyTo(GradualPruningPolicy.builder(dense, steps, perEpoch))
                    .targetSparsity(targetSparsity).sticky(!regrow).includeEmbedding(pruneEmbedding).build();
            policy = gradual;
            predicted = gradual.predictedSparsity();
        } else if (chosen == PruningMethod.AGP) {
            policy = AgpPruningPolicy.matching(dense, schedule.window(steps, perEpoch),
                    targetSparsity, false, pruneEmbedding);
            predicted = targetSparsity;
        } else {
            policy = new OneShotPruningPolicy(dense, targetSparsity, false, pruneEmbedding, true);
            predicted = targetSparsity;
        }
        double inputBpc = Evaluator.bpc(dense, corpus.validation());
        TrainingJob job = new TrainingJob(dense, data, corpus, config, policy, predicted, pruneEmbedding, inputBpc);
        training.applyThreads();
        PrintWriter notes = spec.commandLine().getErr();
        TrainingJob.Outcome outcome = job.run(ProgressListener.create("prune", notes), resumption, out, notes);
        results.publish(outcome, out, spec.commandLine().getOut());
        TrainingJob.discardCheckpoint(resumption, out, notes);
        return 0;
    }

    private static boolean isOnnx(Path file) {
        return file.getFileName() != null && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    /**
     * Any ONNX model, no data: magnitude-prunes every weight tensor wherever it lives in the graph and writes the
     * graph back otherwise untouched, so models Lacuna cannot fine-tune still get smaller.
     */
    private int oneShotOnnx() {
        if (!isOnnx(out)) {
            throw new InvalidOptionException("--out", "pruning an .onnx model in place writes ONNX: give an .onnx"
                    + " file, found " + out);
        }
        OnnxPruning rule = (pooled ? OnnxPruning.global(targetSparsity) : OnnxPruning.perTensor(targetSparsity))
                .withEmbeddings(pruneEmbedding)
                .withStorage(sparse == null ? SparseMode.SCATTER : SparseMode.parse("--sparse", sparse));
        OnnxPruneReport pruned = OnnxWeights.prune(model, out, rule);
        List<Map<String, Object>> tensors = new ArrayList<>();
        for (OnnxPruneReport.Entry e : pruned.tensors()) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", e.before().name());
            t.put("location", e.before().location());
            t.put("shape", e.before().shape());
            t.put("pruned", e.pruned());
            t.put("sparsity_before", e.before().sparsity());
            t.put("sparsity", e.sparsityAfter());
            t.put("storage", e.storage().id());
            t.put("bytes_dense", e.denseBytes());
            t.put("bytes", e.bytes());
            tensors.add(t);
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("method", PruningMethod.ONESHOT.id());
        report.put("model", model.toString());
        report.put("out", out.toString());
        report.put("target_sparsity", targetSparsity);
        report.put("pooled", pooled);
        report.put("params_pruned_tensors", pruned.prunedTensorParameters());
        report.put("sparsity", pruned.sparsity());
        report.put("weight_bytes_dense", pruned.denseBytes());
        report.put("weight_bytes", pruned.bytes());
        report.put("per_tensor", tensors);
        results.publish(report, String.format(Locale.ROOT, "wrote %s%npruned %d weight tensors (%,d values) to"
                + " %.2f%% sparsity%nweights take %,d bytes (%,d dense)%n", out,
                tensors.stream().filter(t -> (boolean) t.get("pruned")).count(), pruned.prunedTensorParameters(),
                100 * pruned.sparsity(), pruned.bytes(), pruned.denseBytes()), spec.commandLine().getOut());
        return 0;
    }

    /** Prunes to the target once and evaluates; no training, so the run has 0 steps. */
    private int oneShot() {
        if (data == null) {
            throw new InvalidOptionException("--data", "is required to measure the pruned model's bpc (only an"
                    + " .onnx model is pruned one-shot without data)");
        }
        Model dense = ModelFiles.read(model);
        CharCorpus corpus = CharCorpus.load(data, dense.vocabulary());
        double inputBpc = Evaluator.bpc(dense, corpus.validation());
        OneShotPruningPolicy policy = new OneShotPruningPolicy(dense, targetSparsity, false, pruneEmbedding, false);
        TrainConfig none = TrainConfig.builder().steps(0).seed(seed).build();
        TrainingJob job = new TrainingJob(dense, data, corpus, none, policy, targetSparsity, pruneEmbedding, inputBpc);
        long startNanos = System.nanoTime();
        policy.pruneNow(dense);
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double bpc = Evaluator.bpc(dense, corpus.validation());
        TrainingJob.Outcome outcome = job.outcomeOf(new TrainResult(dense, 0, seconds, 0, seconds, bpc, List.of()));
        results.publish(outcome, out, spec.commandLine().getOut());
        return 0;
    }

    /** H15: --han-rounds rounds, each pruning at (r/k)·s·σ and retraining --steps steps; one s for all tensors. */
    private int han(Model dense, CharCorpus corpus, TrainConfig config) {
        if (hanRounds < 1) {
            throw new InvalidOptionException("--han-rounds", "must be at least 1, found " + hanRounds);
        }
        Map<String, Double> quality = HanPruning.uniformQuality(dense, targetSparsity, pruneEmbedding);
        Model denseWeights = dense.copy();
        HanPruningPolicy last = HanPruningPolicy.round(denseWeights, quality, hanRounds, hanRounds);
        double inputBpc = Evaluator.bpc(dense, corpus.validation());
        TrainingJob job = new TrainingJob(dense, data, corpus, config, last, null, pruneEmbedding, inputBpc);
        training.applyThreads();
        PrintWriter err = spec.commandLine().getErr();
        // One checkpoint for all rounds: the round in progress, its training state and the finished rounds' results.
        Path checkpoint = TrainingCheckpoint.besideOutput(out);
        if (resumption.resume) {
            err.println(Files.exists(checkpoint) ? "resuming from " + checkpoint
                    : "note: no checkpoint " + checkpoint + " to resume from; starting from step 0");
            err.flush();
        }
        List<ProgressListener> bars = new ArrayList<>();
        TrainResult result;
        try {
            result = HanPruning.run(dense, denseWeights, corpus, config, quality, hanRounds, round -> {
                ProgressListener bar = ProgressListener.create("prune han round " + round + "/" + hanRounds, err);
                bars.add(bar);
                return bar;
            }, checkpoint, resumption.toCheckpoints());
        } finally {
            bars.forEach(ProgressListener::onFinish);
        }
        results.publish(job.outcomeOf(result), out, spec.commandLine().getOut());
        TrainingJob.discardCheckpoint(resumption, out, err);
        return 0;
    }

    /**
     * A pruning run; measures the input model's held-out bpc first, since training changes it in place. Both use
     * the evaluator's fixed batching, as the trainer's final evaluation does, so the numbers compare.
     */
    static TrainingJob gradualJob(Model dense, Path data, CharCorpus corpus, TrainConfig config,
                                  GradualPruningPolicy policy, boolean includeEmbedding) {
        double inputBpc = Evaluator.bpc(dense, corpus.validation());
        return new TrainingJob(dense, data, corpus, config, policy, policy.predictedSparsity(), includeEmbedding,
                inputBpc);
    }

    /** Steps in one pass over the training split, the epoch of N17's schedule heuristics. */
    static long stepsPerEpoch(Model dense, CharCorpus corpus, TrainConfig config) {
        return Trainer.stepsPerEpoch(corpus, config, dense.architecture().bidirectional());
    }
}
