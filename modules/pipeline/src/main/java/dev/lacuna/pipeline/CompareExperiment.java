package dev.lacuna.pipeline;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.core.PruningPolicy;
import dev.lacuna.core.SparsityReport;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.prune.AgpPruningPolicy;
import dev.lacuna.core.prune.GradualPruningPolicy;
import dev.lacuna.core.prune.HanPruningPolicy;
import dev.lacuna.core.prune.OneShotPruningPolicy;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.core.prune.ScheduleSteps;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.io.Sha256;
import dev.lacuna.pipeline.StagedTraining.Stage;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.Evaluator;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.TrainResult;
import dev.lacuna.train.Trainer;
import dev.lacuna.train.TrainingCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code lacuna compare}: every requested method prunes a copy of the same dense model on the same data split to
 * the same target, then an optional width sweep trains dense models of several hidden sizes and prunes the wide
 * ones. Reports are rewritten after every run, so an interrupted or failed experiment still leaves a report of the
 * runs that finished, marked incomplete. With {@link Checkpoints} an interrupted experiment can also be resumed: the
 * finished runs are taken from {@code compare.resume}, the run in progress continues from its own checkpoint.
 *
 * <p><b>Comparable budget</b> (docs/compare.md): gradual, agp and oneshot+finetune each train S steps from the dense
 * model with the same settings; agp prunes over the same window as gradual (N17 Table 2's start and 50% end, its
 * refresh frequency); oneshot trains 0 steps; han runs its k prune-retrain rounds of {@code hanRoundSteps} each at
 * its lower rate, as H15 prescribes, and pays for its sensitivity analysis in seconds. Every run counts its steps and
 * seconds from the dense model on, and the report states them relative to gradual's.
 */
public final class CompareExperiment {
    private final Model dense;
    private final CharCorpus corpus;
    private final CompareSettings settings;
    private final Path outDir;
    private final RunListener listener;
    private final CompressedSizeHook sizes;
    private final long stepsPerEpoch;
    private final Checkpoints checkpoints;
    private final boolean saveModels;
    private double denseBpc;
    /** The finished runs, saved for {@code --resume}; null when the experiment is not resumable. */
    private CompareProgress progress;

    private CompareExperiment(Model dense, CharCorpus corpus, CompareSettings settings, Path outDir,
                              RunListener listener, CompressedSizeHook sizes, Checkpoints checkpoints,
                              boolean saveModels) {
        this.dense = dense;
        this.checkpoints = checkpoints;
        this.saveModels = saveModels;
        this.corpus = corpus;
        this.settings = settings;
        this.outDir = outDir;
        this.listener = listener;
        this.sizes = sizes;
        this.stepsPerEpoch = Trainer.stepsPerEpoch(corpus, settings.fineTune(), dense.architecture().bidirectional());
    }

    /**
     * Runs the experiment and writes {@code report.json}, {@code report.md} and {@code report.html} into
     * {@code outDir} after every run.
     *
     * @param dense    the trained dense model (not changed)
     * @param data     the text file {@code corpus} was read from (named in the report)
     * @param corpus   the text, encoded with the dense model's vocabulary
     * @param listener progress, or {@link RunListener#NONE}
     * @param sizes    the quantized/Huffman size hook, or {@link CompressedSizeHook#NOT_AVAILABLE}
     * @return the final report; {@link CompareReport#complete()} is false when a run failed
     * @throws InvalidOptionException before any training, when the settings do not fit the model or the data
     * @throws dev.lacuna.core.BadFileException when the text cannot fill one batch, or a report cannot be written
     */
    public static CompareReport run(Model dense, Path data, CharCorpus corpus, CompareSettings settings, Path outDir,
                                    RunListener listener, CompressedSizeHook sizes) {
        return run(dense, data, corpus, settings, outDir, listener, sizes, Checkpoints.NONE, false);
    }

    /**
     * As {@link #run(Model, Path, CharCorpus, CompareSettings, Path, RunListener, CompressedSizeHook)}, resumable and
     * optionally keeping the models (docs/reliability.md, "Resuming").
     *
     * <p>With {@code checkpoints.every() > 0} every training run writes {@code outDir/<run>.resume} every N of its
     * steps, and {@code outDir/compare.resume} records each run as it finishes. With {@code checkpoints.resume()} the
     * runs recorded there are taken as they are, the run in progress continues from its {@code <run>.resume}, and
     * the rest run normally; the final report equals an uninterrupted run's except for measured times and the
     * machine section. Both kinds of file are deleted once every run has finished. {@code <run>} is the method id,
     * or {@code dense-<cell>-<hidden>} and {@code gradual-<cell>-<hidden>} for the width sweep.
     *
     * @param saveModels whether to write each run's final model as {@code outDir/<run>.safetensors}
     * @throws InvalidOptionException naming {@code --resume} when the saved progress or a run's checkpoint belongs to
     *                                another experiment (dense model, data or settings differ)
     */
    public static CompareReport run(Model dense, Path data, CharCorpus corpus, CompareSettings settings, Path outDir,
                                    RunListener listener, CompressedSizeHook sizes, Checkpoints checkpoints,
                                    boolean saveModels) {
        CompareExperiment experiment = new CompareExperiment(dense, corpus, settings, outDir, listener, sizes,
                checkpoints, saveModels);
        experiment.checkWidthsFit();
        experiment.checkSchedulesResolve();
        return experiment.run(data);
    }

    /**
     * Builds every requested schedule once before any training, so that a budget too short for a schedule fails
     * as a bad option (naming it) instead of as a failed run after the others have trained.
     */
    private void checkSchedulesResolve() {
        long steps = settings.fineTune().steps();
        for (PruningMethod method : settings.methods()) {
            switch (method) {
                case GRADUAL -> gradualPolicy(dense, steps);
                case AGP -> AgpPruningPolicy.matching(dense, ScheduleSteps.defaults(steps, stepsPerEpoch),
                        settings.targetSparsity(), settings.pooled(), settings.includeEmbedding());
                default -> {
                }
            }
        }
        if (!settings.widths().isEmpty()) {
            gradualPolicy(dense, steps);
        }
    }

    private CompareReport run(Path data) {
        Architecture arch = dense.architecture();
        Model denseCopy = dense.copy();
        denseCopy.applyMasks();
        denseBpc = Evaluator.bpc(denseCopy, corpus.validation());
        Map<String, Object> denseInfo = new LinkedHashMap<>();
        denseInfo.put("cell", arch.cell().id());
        denseInfo.put("layers", arch.layers());
        denseInfo.put("hidden", arch.hiddenSize());
        denseInfo.put("params", arch.parameterCount());
        denseInfo.put("params_nonzero", denseCopy.sparsity(settings.includeEmbedding()).paramsNonzero());
        denseInfo.put("bpc_val", denseBpc);
        denseInfo.put("size_bytes", ModelSizes.of(denseCopy, sizes).toMap());
        Map<String, Object> settingsMap = new LinkedHashMap<>(settings.toMap());
        settingsMap.put("data", data.toString());
        settingsMap.put("train_chars", corpus.trainLength());
        settingsMap.put("validation_chars", corpus.validation().length);
        settingsMap.put("steps_per_epoch", stepsPerEpoch);
        CompareReport report = new CompareReport(settingsMap, machine(), denseInfo);
        if (checkpoints.requested()) {
            String fingerprint = fingerprint(settingsMap, denseInfo);
            progress = checkpoints.resume() ? CompareProgress.read(outDir, fingerprint) : null;
            if (progress == null) {
                progress = new CompareProgress(fingerprint);
            } else {
                listener.onResume("finished runs", CompareProgress.file(outDir));
            }
        }

        int count = settings.methods().size() + widthRunCount();
        int index = 0;
        boolean allFinished = true;
        for (PruningMethod method : settings.methods()) {
            index++;
            RunRecord record = finished(report.methods().size(), progress == null ? null : progress.methods);
            if (record != null) {
                if (method == PruningMethod.HAN && progress.sensitivity != null) {
                    report.sensitivity(progress.sensitivity);
                }
            } else {
                try {
                    record = runMethod(method, index, count, report);
                } catch (LacunaException | IllegalArgumentException | IllegalStateException e) {
                    listener.onFailure(method.id(), e.getMessage());
                    record = RunRecord.failed(method.id(), arch.cell().id(), arch.layers(), arch.hiddenSize(),
                            arch.parameterCount(), e.getMessage());
                }
                if (progress != null) {
                    progress.methods.add(record);
                    saveProgress(method.id());
                }
            }
            allFinished &= record.finished();
            report.addMethod(record);
            ReportFiles.writeAll(outDir, report);
        }
        for (CellType cell : widthCells()) {
            for (int width : settings.widths()) {
                index++;
                allFinished &= widthRuns(cell, width, index, count, report);
                if (width != settings.widths().get(0)) {
                    index++;
                }
                ReportFiles.writeAll(outDir, report);
            }
        }
        report.complete(allFinished);
        ReportFiles.writeAll(outDir, report);
        if (progress != null) {
            // Every run is recorded in the reports now: the checkpoints could only resume into the same result.
            deleteQuietly(CompareProgress.file(outDir));
            for (CellType cell : widthCells()) {
                for (int width : settings.widths()) {
                    deleteQuietly(modelFile("dense-" + cell.id() + "-" + width + "-start"));
                }
            }
        }
        return report;
    }

    /**
     * SHA-256 of the dense model, the text and the settings (the trainer's fingerprint of a dense fine-tune, every
     * setting as reported, and the dense model's report entry, whose sizes depend on the size hook).
     */
    private String fingerprint(Map<String, Object> settingsMap, Map<String, Object> denseInfo) {
        return Sha256.ofText(TrainingCheckpoint.fingerprint(dense, corpus, settings.fineTune(), null) + "\n"
                + Json.compact(settingsMap) + "\n" + Json.compact(denseInfo));
    }

    /**
     * The saved record of the run at {@code position}, or null when it has not finished. Runs are saved in run order
     * and the fingerprint fixes that order, so the saved list is a prefix of this experiment's runs.
     */
    private static RunRecord finished(int position, List<RunRecord> saved) {
        return saved != null && position < saved.size() ? saved.get(position) : null;
    }

    /**
     * Records the runs finished so far, then drops the finished run's checkpoint; in this order a kill in between
     * leaves a stale checkpoint that is never read, rather than a lost run.
     */
    private void saveProgress(String key) {
        progress.write(outDir);
        deleteQuietly(checkpointFile(key));
    }

    /** Makes a run of a resumable experiment checkpoint to {@code <key>.resume}, and resume from it if asked. */
    private void checkpoint(StagedTraining training, String key, String label) {
        if (progress != null) {
            Path file = checkpointFile(key);
            if (checkpoints.resume() && Files.exists(file)) {
                listener.onResume(label, file);
            }
            training.checkpoints(file, checkpoints);
        }
    }

    private Path checkpointFile(String key) {
        return outDir.resolve(key + TrainingCheckpoint.SUFFIX);
    }

    private Path modelFile(String key) {
        return outDir.resolve(key + ".safetensors");
    }

    /** Writes a run's final model when the models are kept. */
    private void saveModel(String key, Model model, double bpc) {
        if (saveModels) {
            writeModel(key, model, bpc);
        }
    }

    /**
     * Writes {@code outDir/<key>.safetensors} with the run and its results as the only metadata, so that the file
     * does not depend on where the model came from (trained in this process, or read back after a resume).
     */
    private void writeModel(String key, Model model, double bpc) {
        Model stamped = model.copy();
        stamped.metadata().clear();
        stamped.metadata().put("lacuna.method", key);
        stamped.metadata().put("lacuna.sparsity",
                Double.toString(model.sparsity(settings.includeEmbedding()).sparsity()));
        stamped.metadata().put("lacuna.bpc_val", Double.toString(bpc));
        ModelCheckpoint.save(stamped, modelFile(key));
    }

    /** A file that only served resuming; failing to delete it leaves a harmless leftover. */
    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // harmless: a stale checkpoint is only read with --resume, and its fingerprint is checked then
        }
    }

    private RunRecord runMethod(PruningMethod method, int index, int count, CompareReport report) {
        TrainConfig config = settings.fineTune();
        long steps = config.steps();
        return switch (method) {
            case GRADUAL -> {
                GradualPruningPolicy policy = gradualPolicy(dense, steps);
                yield train(method.id(), method.id(), dense.copy(), denseBpc, List.of(new Stage(policy, config)),
                        policy.predictedSparsity(), index, count, 0);
            }
            case AGP -> {
                ScheduleSteps window = ScheduleSteps.defaults(steps, stepsPerEpoch);
                AgpPruningPolicy policy = AgpPruningPolicy.matching(dense, window, settings.targetSparsity(),
                        settings.pooled(), settings.includeEmbedding());
                yield train(method.id(), method.id(), dense.copy(), denseBpc, List.of(new Stage(policy, config)),
                        predictOnDense(policy, policy.schedule().lastStep()), index, count, 0);
            }
            case ONESHOT_FINETUNE -> {
                OneShotPruningPolicy policy = oneShot(true);
                yield train(method.id(), method.id(), dense.copy(), denseBpc, List.of(new Stage(policy, config)),
                        predictOnDense(policy, 0), index, count, 0);
            }
            case ONESHOT -> oneShotWithoutTraining(index, count);
            case HAN -> han(index, count, report);
        };
    }

    private GradualPruningPolicy gradualPolicy(Model model, long steps) {
        return GradualPruningPolicy.builder(model, steps, stepsPerEpoch).targetSparsity(settings.targetSparsity())
                .includeEmbedding(settings.includeEmbedding()).build();
    }

    private OneShotPruningPolicy oneShot(boolean finetune) {
        return new OneShotPruningPolicy(dense, settings.targetSparsity(), settings.pooled(),
                settings.includeEmbedding(), finetune);
    }

    private RunRecord oneShotWithoutTraining(int index, int count) {
        listener.onRun(PruningMethod.ONESHOT.id(), index, count);
        long start = System.nanoTime();
        Model model = dense.copy();
        OneShotPruningPolicy policy = oneShot(false);
        TreeMap<Long, Double> thresholds = new TreeMap<>();
        new RecordingPolicy(policy, 0, thresholds).refresh(0, model);
        model.applyMasks();
        double seconds = (System.nanoTime() - start) / 1e9;
        double bpc = Evaluator.bpc(model, corpus.validation());
        double sparsity = model.sparsity(settings.includeEmbedding()).sparsity();
        List<RunRecord.Point> history = List.of(new RunRecord.Point(0, 0, 0, denseBpc),
                new RunRecord.Point(0, sparsity, thresholds.get(0L), bpc));
        saveModel(PruningMethod.ONESHOT.id(), model, bpc);
        return record(PruningMethod.ONESHOT.id(), model, predictOnDense(policy, 0), bpc, 0, seconds, history);
    }

    /**
     * H15: optional sensitivity analysis for the per-tensor s, one common factor to reach the target, then k rounds
     * that each prune at (r/k)·s·σ and retrain with the masks fixed at the lower rate.
     */
    private RunRecord han(int index, int count, CompareReport report) {
        Map<String, Double> quality;
        double analysisSeconds;
        if (progress != null && progress.hanQuality != null) {
            // Resuming within han's rounds: the analysis is deterministic and was saved, so it is not redone.
            quality = progress.hanQuality;
            analysisSeconds = progress.hanAnalysisSeconds;
            if (progress.sensitivity != null) {
                report.sensitivity(progress.sensitivity);
            }
        } else {
            long start = System.nanoTime();
            Map<String, Double> relative = new LinkedHashMap<>();
            Map<String, Object> sensitivity = null;
            if (settings.hanSensitivity()) {
                int[] validation = corpus.validation();
                int[] ids = Arrays.copyOf(validation, Math.min(validation.length, settings.sensitivityChars()));
                SensitivityAnalysis.Result result = SensitivityAnalysis.run(dense, ids, settings.sensitivityLevels(),
                        settings.includeEmbedding(), RunListener.NONE);
                sensitivity = result.toMap(settings.sensitivityTolerance());
                report.sensitivity(sensitivity);
                relative.putAll(result.hanQuality(settings.sensitivityTolerance()));
            } else {
                for (TensorSpec spec : dense.prunable(settings.includeEmbedding())) {
                    relative.put(spec.name(), 1.0);
                }
            }
            quality = HanPruningPolicy.qualityForTarget(dense, relative, settings.targetSparsity());
            analysisSeconds = (System.nanoTime() - start) / 1e9;
            if (progress != null) {
                progress.sensitivity = sensitivity;
                progress.hanQuality = quality;
                progress.hanAnalysisSeconds = analysisSeconds;
                progress.write(outDir);
            }
        }
        TrainConfig roundConfig = settings.fineTune().toBuilder().steps(settings.hanRoundSteps())
                .lr(settings.hanLr()).build();
        List<Stage> stages = HanPruning.rounds(dense, roundConfig, quality, settings.hanRounds());
        HanPruningPolicy last = HanPruningPolicy.round(dense, quality, settings.hanRounds(), settings.hanRounds());
        return train(PruningMethod.HAN.id(), PruningMethod.HAN.id(), dense.copy(), denseBpc, stages,
                predictOnDense(last, 0), index, count, analysisSeconds);
    }

    /**
     * Runs the stages one after another on {@code model}, on one step axis, checkpointing to and resuming from
     * {@code outDir/<key>.resume} when the experiment is resumable, and records the outcome; the history starts at
     * {@code startBpc}, the held-out bpc of the model before training.
     */
    private RunRecord train(String method, String key, Model model, double startBpc, List<Stage> stages,
                            Double predicted, int index, int count, double extraSeconds) {
        List<RunRecord.Point> history = new ArrayList<>();
        history.add(new RunRecord.Point(0, model.sparsity(settings.includeEmbedding()).sparsity(), 0, startBpc));
        StagedTraining training = new StagedTraining(model, corpus, stages, stage -> listener.onRun(
                stages.size() == 1 ? method : method + " round " + stage + "/" + stages.size(), index, count));
        checkpoint(training, key, method);
        StagedTraining.Result outcome = training.run();
        TrainResult result = outcome.training();
        for (TrainResult.Point p : result.history()) {
            history.add(new RunRecord.Point(p.step() + 1, p.sparsity(),
                    RecordingPolicy.thresholdAt(outcome.thresholds(), p.step()), p.bpcVal()));
        }
        saveModel(key, model, result.bpcVal());
        return record(method, model, predicted, result.bpcVal(), result.steps(), extraSeconds + result.trainSeconds(),
                history);
    }

    private RunRecord record(String method, Model model, Double predicted, double bpc, long steps, double seconds,
                             List<RunRecord.Point> history) {
        Architecture arch = model.architecture();
        SparsityReport sparsity = model.sparsity(settings.includeEmbedding());
        return new RunRecord(method, arch.cell().id(), arch.layers(), arch.hiddenSize(), arch.parameterCount(),
                sparsity.paramsNonzero(), sparsity.sparsity(), predicted, bpc, steps, seconds,
                ModelSizes.of(model, sizes), history, null);
    }

    /**
     * The sparsity the policy's last mask refresh gives on the dense weights, had training not moved them: the
     * prediction a user gets before training (exact for agp and oneshot, which prune to a level).
     */
    private double predictOnDense(PruningPolicy policy, long lastRefresh) {
        Model copy = dense.copy();
        policy.refresh(lastRefresh, copy);
        copy.applyMasks();
        return copy.sparsity(settings.includeEmbedding()).sparsity();
    }

    private List<CellType> widthCells() {
        if (settings.widths().isEmpty()) {
            return List.of();
        }
        return settings.widthCells().isEmpty() ? List.of(dense.architecture().cell()) : settings.widthCells();
    }

    private int widthRunCount() {
        // Every width gets a dense model, all but the narrowest also a sparse one.
        return widthCells().size() * Math.max(0, 2 * settings.widths().size() - 1);
    }

    private Architecture widthArchitecture(CellType cell, int width) {
        Architecture a = dense.architecture();
        return new Architecture(cell, a.vocabSize(), a.embedDim(), width, a.layers(), a.bidirectional(),
                a.activation(), a.linearBeforeReset());
    }

    /**
     * How far apart the narrowest dense model and the widest sparse one may be in non-zeros for the sweep to still
     * pair them: within a factor of 2 the pair says something about equal budgets, beyond it nothing.
     */
    static final double MAX_PAIR_RATIO = 2.0;

    /**
     * Fails before any training when the sweep cannot show the trade-off: the narrowest dense model must have at
     * most {@link #MAX_PAIR_RATIO} times as many parameters as the widest model keeps at the target sparsity,
     * otherwise no narrow dense model comes near the wide sparse one's non-zeros.
     */
    private void checkWidthsFit() {
        List<Integer> widths = settings.widths();
        if (widths.isEmpty()) {
            return;
        }
        for (CellType cell : widthCells()) {
            Architecture narrow = widthArchitecture(cell, widths.get(0));
            Architecture wide = widthArchitecture(cell, widths.get(widths.size() - 1));
            long prunable = 0;
            for (TensorSpec spec : wide.tensors()) {
                boolean pruned = switch (spec.role()) {
                    case BIAS -> false;
                    case EMBEDDING -> settings.includeEmbedding();
                    default -> true;
                };
                if (pruned) {
                    prunable += spec.elementCount();
                }
            }
            long kept = wide.parameterCount() - Math.round(settings.targetSparsity() * prunable);
            if (narrow.parameterCount() > MAX_PAIR_RATIO * kept) {
                throw new InvalidOptionException("--widths", String.format(java.util.Locale.ROOT,
                        "do not fit: the narrowest %s (hidden %d) has %,d parameters, more than twice what the widest"
                                + " (hidden %d) keeps at sparsity %.2f (about %,d), so no narrow dense model matches its"
                                + " non-zeros; add a narrower width or a wider one", cell.id(), widths.get(0),
                        narrow.parameterCount(), widths.get(widths.size() - 1), settings.targetSparsity(), kept));
            }
        }
    }

    /**
     * Trains the dense model of one width and, unless it is the narrowest, a gradually pruned one, on equal budgets
     * (N17 §4 compares models trained for the same number of steps): the dense model trains W steps
     * ({@code --width-steps}) at the dense rate and then S steps ({@code --steps}) with the fine-tuning settings,
     * while the pruned one starts from the dense model's W-step state and is pruned over those same S steps. So
     * every model of the sweep has trained W + S steps, and a pair compares like with like.
     *
     * <p>When resuming, runs already recorded are taken as they are; the W-step model a pending pruning run needs is
     * then read back from {@code outDir/dense-<cell>-<hidden>-start.safetensors}, which a resumable experiment
     * writes for every width but the narrowest.
     */
    private boolean widthRuns(CellType cell, int width, int index, int count, CompareReport report) {
        Architecture arch = widthArchitecture(cell, width);
        String label = cell.id() + "-" + width;
        String denseKey = "dense-" + label;
        String startKey = denseKey + "-start";
        boolean pruned = width != settings.widths().get(0);
        List<RunRecord> saved = progress == null ? null : progress.widthRuns;
        Model[] start = new Model[1];
        RunRecord denseRun = finished(report.widthRuns().size(), saved);
        if (denseRun == null) {
            try {
                Model model = Model.initialize(arch, dense.vocabulary(), settings.fineTune().seed());
                TrainConfig pretraining = settings.fineTune().toBuilder().steps(settings.widthDenseSteps())
                        .lr(settings.denseLr()).build();
                // StagedTraining asks for a stage's listener while the model holds that stage's starting weights,
                // also when it resumes inside the stage: stage 2 starts from the W-step model.
                StagedTraining training = new StagedTraining(model, corpus,
                        List.of(new Stage(null, pretraining), new Stage(null, settings.fineTune())), stage -> {
                            if (stage == 2 && pruned) {
                                start[0] = model.copy();
                                if (progress != null) {
                                    writeModel(startKey, start[0], Double.NaN);
                                }
                            }
                            return listener.onRun("dense " + label + (stage == 1 ? "" : " continued"), index,
                                    count);
                        });
                checkpoint(training, denseKey, "dense " + label);
                TrainResult result = training.run().training();
                List<RunRecord.Point> history = new ArrayList<>();
                for (TrainResult.Point p : result.history()) {
                    history.add(new RunRecord.Point(p.step() + 1, 0, 0, p.bpcVal()));
                }
                saveModel(denseKey, model, result.bpcVal());
                denseRun = record("dense", model, null, result.bpcVal(), result.steps(), result.trainSeconds(),
                        history);
            } catch (LacunaException | IllegalArgumentException | IllegalStateException e) {
                listener.onFailure("dense " + label, e.getMessage());
                denseRun = RunRecord.failed("dense", cell.id(), arch.layers(), width, arch.parameterCount(),
                        e.getMessage());
            }
            finishWidthRun(denseRun, denseKey);
        }
        report.addWidthRun(denseRun);
        if (!denseRun.finished()) {
            return false;
        }
        if (!pruned) {
            return true;
        }
        String sparseKey = PruningMethod.GRADUAL.id() + "-" + label;
        RunRecord sparseRun = finished(report.widthRuns().size(), saved);
        if (sparseRun == null) {
            try {
                Model model = start[0] != null ? start[0] : ModelCheckpoint.load(modelFile(startKey));
                GradualPruningPolicy policy = gradualPolicy(model, settings.fineTune().steps());
                RunRecord pruning = train(PruningMethod.GRADUAL.id(), sparseKey, model.copy(),
                        bpcAt(denseRun, settings.widthDenseSteps()), List.of(new Stage(policy, settings.fineTune())),
                        policy.predictedSparsity(), index + 1, count, 0);
                sparseRun = fromScratch(pruning, denseRun, settings.widthDenseSteps());
            } catch (LacunaException | IllegalArgumentException | IllegalStateException e) {
                listener.onFailure("gradual " + label, e.getMessage());
                sparseRun = RunRecord.failed(PruningMethod.GRADUAL.id(), cell.id(), arch.layers(), width,
                        arch.parameterCount(), e.getMessage());
            }
            finishWidthRun(sparseRun, sparseKey);
        }
        report.addWidthRun(sparseRun);
        return sparseRun.finished();
    }

    /** The held-out bpc a run recorded after {@code step} steps, NaN if it did not evaluate there. */
    private static double bpcAt(RunRecord run, long step) {
        return run.history().stream().filter(p -> p.step() == step).mapToDouble(RunRecord.Point::bpcVal)
                .findFirst().orElse(Double.NaN);
    }

    /**
     * A pruning run of the sweep counted from scratch, like its dense partner: the W pre-training steps (and their
     * share of the dense run's seconds, in proportion to steps) come first, then the run's own history.
     */
    private static RunRecord fromScratch(RunRecord pruning, RunRecord denseRun, long pretrainingSteps) {
        double pretrainingSeconds = denseRun.trainSeconds() * pretrainingSteps / denseRun.trainSteps();
        List<RunRecord.Point> history = new ArrayList<>();
        for (RunRecord.Point p : denseRun.history()) {
            if (p.step() <= pretrainingSteps) {
                history.add(p);
            }
        }
        for (RunRecord.Point p : pruning.history()) {
            if (p.step() > 0) {
                history.add(new RunRecord.Point(pretrainingSteps + p.step(), p.sparsity(), p.threshold(),
                        p.bpcVal()));
            }
        }
        return new RunRecord(pruning.method(), pruning.cell(), pruning.layers(), pruning.hidden(), pruning.params(),
                pruning.paramsNonzero(), pruning.sparsity(), pruning.sparsityPredicted(), pruning.bpcVal(),
                pretrainingSteps + pruning.trainSteps(), pretrainingSeconds + pruning.trainSeconds(), pruning.sizes(),
                history, pruning.error());
    }

    private void finishWidthRun(RunRecord run, String key) {
        if (progress != null) {
            progress.widthRuns.add(run);
            saveProgress(key);
        }
    }

    /** What machine and runtime produced the report. */
    static Map<String, Object> machine() {
        Runtime rt = Runtime.getRuntime();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("arch", System.getProperty("os.arch"));
        m.put("cpus", rt.availableProcessors());
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        m.put("max_heap_mb", rt.maxMemory() / (1024 * 1024));
        String omp = System.getenv("OMP_NUM_THREADS");
        m.put("omp_num_threads", omp);
        m.put("started", Instant.now().toString());
        return m;
    }
}
