package dev.lacuna.pipeline.compress;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.SparsityReport;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.prune.AgpPruningPolicy;
import dev.lacuna.core.prune.GradualPruningPolicy;
import dev.lacuna.core.prune.OneShotPruningPolicy;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.core.prune.ScheduleSteps;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.io.Sha256;
import dev.lacuna.io.format.EncodingOptions;
import dev.lacuna.io.format.LacunaFormat;
import dev.lacuna.onnx.ExportOptions;
import dev.lacuna.onnx.OnnxExporter;
import dev.lacuna.onnx.OnnxPruneReport;
import dev.lacuna.onnx.OnnxPruning;
import dev.lacuna.onnx.OnnxVerifier;
import dev.lacuna.onnx.OnnxWeights;
import dev.lacuna.pipeline.Checkpoints;
import dev.lacuna.pipeline.HanPruning;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.Evaluator;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.Trainer;
import dev.lacuna.train.TrainingCheckpoint;
import dev.lacuna.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Compresses one model as a build step (issue #7): prune it (one-shot, or while fine-tuning), write the requested
 * formats and a {@link CompressReport} into the output directory. The Maven plugin's {@code compress} goal is a thin
 * shell over this class; the CLI's prune/compress commands should call it too rather than repeat the orchestration.
 *
 * <p>Guarantees:
 * <ul>
 *   <li><b>Up to date</b>: the report stores a hash of (model bytes, data bytes, settings); when it matches and every
 *       output listed in the report still has its recorded hash, nothing is redone.</li>
 *   <li><b>No partial outputs</b>: everything is built in a staging folder beside the output directory and moved in
 *       only when complete, the report last; the old report is removed first, so a crash while moving leaves no
 *       report that would call the half-replaced outputs up to date.</li>
 *   <li><b>Determinism</b>: every random choice takes {@link CompressSettings#seed()}; the report has no timestamps.</li>
 *   <li><b>Resumable fine-tuning</b> (issue #8 item 4): with {@link CompressSettings#checkpointEvery()} the pruning
 *       stage of gradual and agp writes a {@link TrainingCheckpoint} to {@link CompressSettings#pruneCheckpoint()},
 *       and trained quantization a {@link dev.lacuna.train.CentroidCheckpoint} to
 *       {@link CompressSettings#quantizeCheckpoint()}; a finished pruning stage leaves its model in
 *       {@link CompressSettings#prunedCheckpoint()}. With {@link CompressSettings#resume()} a rerun skips what was
 *       done, continues from the checkpoint of the stage in progress, and publishes the same bytes as an
 *       uninterrupted run. A published or up-to-date output directory holds no checkpoint.</li>
 * </ul>
 *
 * <p>An ONNX input pruned one-shot keeps its graph: only weight values change ({@link OnnxWeights#prune}), so any ONNX
 * model works, and the output is compared with the input file itself in ONNX Runtime. Every other combination
 * imports the model, prunes it in memory and exports it with {@link OnnxExporter}; the ONNX output is then compared
 * with the export of the unpruned model, so both graphs share input and output names.
 */
public final class CompressJob {
    /** Suffix of the report file after the model's stem. */
    public static final String REPORT_SUFFIX = ".compress.json";
    /** Learning rate of fine-tuning, as the CLI's prune command uses. */
    static final double FINE_TUNE_LR = 1e-3;

    private final CompressSettings settings;
    private final Consumer<String> progress;
    private final TrainingListener training;

    /**
     * @param settings validated settings
     * @param progress receives one line per stage (the Maven log, a terminal), never null
     */
    public CompressJob(CompressSettings settings, Consumer<String> progress) {
        this(settings, progress, null);
    }

    /** As the public constructor, with callbacks from the pruning stage's trainer (tests interrupt it there). */
    CompressJob(CompressSettings settings, Consumer<String> progress, TrainingListener training) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.progress = Objects.requireNonNull(progress, "progress");
        this.training = training;
    }

    /**
     * Runs the job, or does nothing when the outputs are up to date.
     *
     * @throws dev.lacuna.core.InvalidOptionException when the settings do not fit the model (e.g. its vocabulary)
     * @throws BadFileException when an input cannot be read or an output cannot be written
     */
    public CompressResult run() {
        progress.accept("hashing " + settings.model().getFileName() + (settings.trainingData() == null ? ""
                : " and " + settings.trainingData().getFileName()));
        String inputHash = inputHash(settings);
        Path reportFile = settings.reportFile();
        CompressReport previous = upToDateReport(reportFile, inputHash);
        if (previous != null) {
            progress.accept("up to date: " + reportFile.getFileName() + " matches input hash "
                    + inputHash.substring(0, 12) + ", nothing to do");
            discardCheckpoints();
            return new CompressResult(previous, reportFile, true);
        }
        Path staging = createStaging();
        try {
            Built built = isOnnx(settings.model()) && settings.method() == PruningMethod.ONESHOT
                    ? pruneOnnxGraph(staging) : pruneImported(staging, inputHash);
            CompressReport report = publish(staging, built, inputHash);
            discardCheckpoints();
            progress.accept(String.format(Locale.ROOT, "wrote %s: sparsity %.4f, %s", reportFile.getFileName(),
                    report.sparsity(), sizes(report)));
            return new CompressResult(report, reportFile, false);
        } finally {
            deleteTree(staging);
        }
    }

    /** The up-to-date key: SHA-256 over the settings that shape the outputs and the input contents. */
    static String inputHash(CompressSettings s) {
        String text = "lacuna-compress/" + CompressReport.VERSION
                + "\nmethod=" + s.method().id()
                + "\ntargetSparsity=" + s.targetSparsity()
                + "\nsteps=" + s.steps()
                + "\nseed=" + s.seed()
                + "\nbits=" + s.bits()
                + "\nhuffman=" + s.huffman()
                + "\nformats=" + s.orderedFormats()
                + "\nquantizationSteps=" + s.quantizationSteps()
                + "\nstem=" + s.stem()
                + "\nmodel=" + Sha256.ofFile(s.model())
                + "\ndata=" + (s.trainingData() == null ? "none" : Sha256.ofFile(s.trainingData()));
        return Sha256.ofText(text);
    }

    /** The previous report when it has the same key and every output it lists is unchanged; otherwise null. */
    private CompressReport upToDateReport(Path reportFile, String inputHash) {
        if (!Files.isRegularFile(reportFile)) {
            return null;
        }
        CompressReport report;
        try {
            report = CompressReport.read(reportFile);
        } catch (BadFileException e) {
            progress.accept("ignoring unreadable previous report: " + e.getMessage());
            return null;
        }
        if (report.version() != CompressReport.VERSION || !inputHash.equals(report.inputHash())
                || report.outputs().size() != settings.formats().size()) {
            return null;
        }
        for (CompressReport.Output output : report.outputs()) {
            Path file = settings.outputDirectory().resolve(output.file());
            if (!Files.isRegularFile(file) || !output.sha256().equals(Sha256.ofFile(file))) {
                return null;
            }
        }
        return report;
    }

    /** What the pruning stage produced: staged files by format, and the measurements. */
    private record Built(Map<OutputFormat, Path> files, long params, long nonzero, long paramsTotal,
                         Double bpcBefore, Double bpcAfter, Double maxOutputDiff) {
    }

    /** One-shot pruning of the ONNX graph's weight values; the graph is otherwise untouched. */
    private Built pruneOnnxGraph(Path staging) {
        Path onnx = staging.resolve(settings.stem() + OutputFormat.ONNX.extension());
        progress.accept(String.format(Locale.ROOT, "pruning %s one-shot to sparsity %s (ONNX graph kept, pruned"
                + " weights stored sparsely)", settings.model().getFileName(), settings.targetSparsity()));
        OnnxPruneReport pruned = OnnxWeights.prune(settings.model(), onnx, OnnxPruning.perTensor(
                settings.targetSparsity()));
        long paramsTotal = 0;
        for (OnnxPruneReport.Entry e : pruned.tensors()) {
            paramsTotal += e.before().size();
        }
        long params = pruned.prunedTensorParameters();
        long nonzero = params - pruned.prunedTensorZeros();
        Double diff = verify(onnx, settings.model());
        Double bpcBefore = null;
        Double bpcAfter = null;
        Model imported = null;
        if (settings.trainingData() != null || settings.formats().contains(OutputFormat.LACUNA)) {
            imported = withMasksFromZeros(ModelFiles.read(onnx));
        }
        Map<OutputFormat, Path> files = new EnumMap<>(OutputFormat.class);
        if (settings.formats().contains(OutputFormat.LACUNA)) {
            Model stored = settings.quantizationSteps() == 0 ? imported
                    : trainedQuantization(imported, loadCorpus(imported));
            files.put(OutputFormat.LACUNA, writeLacuna(stored, staging));
        }
        if (settings.trainingData() != null) {
            Model dense = ModelFiles.read(settings.model());
            CharCorpus corpus = loadCorpus(dense);
            progress.accept("evaluating held-out bpc of the input and the compressed model");
            bpcBefore = Evaluator.bpc(dense, corpus.validation());
            bpcAfter = Evaluator.bpc(asStored(imported, files), corpus.validation());
        }
        if (settings.formats().contains(OutputFormat.ONNX)) {
            files.put(OutputFormat.ONNX, onnx);
        }
        return new Built(files, params, nonzero, paramsTotal, bpcBefore, bpcAfter, diff);
    }

    /**
     * Imports the model, prunes it (training for every method but oneshot), optionally fine-tunes the .lacuna
     * codebooks (trained quantization) and exports the formats. When both stages train and checkpoints are on, the
     * pruned model is kept until the job is published, so a resumed job does not prune again.
     */
    private Built pruneImported(Path staging, String inputHash) {
        progress.accept("reading " + settings.model().getFileName());
        Model model = ModelFiles.read(settings.model());
        Model dense = model.copy();
        CharCorpus corpus = settings.trainingData() == null ? null : loadCorpus(model);
        Double bpcBefore = null;
        if (corpus != null) {
            progress.accept("evaluating held-out bpc of the input model");
            bpcBefore = Evaluator.bpc(model, corpus.validation());
        }
        Path pruned = settings.prunedCheckpoint();
        if (settings.resume() && Files.exists(pruned)) {
            PrunedModelCheckpoint.restore(pruned, inputHash, model);
            progress.accept("the pruning stage had finished: restored the pruned model from " + pruned);
        } else {
            prune(model, corpus);
            model.applyMasks();
            if (settings.quantizationSteps() > 0 && settings.method().trains() && settings.checkpointEvery() > 0) {
                PrunedModelCheckpoint.write(model, inputHash, pruned);
                deleteQuietly(settings.pruneCheckpoint());
            }
        }
        SparsityReport sparsity = model.sparsity(false);
        Map<OutputFormat, Path> files = new EnumMap<>(OutputFormat.class);
        if (settings.formats().contains(OutputFormat.LACUNA)) {
            Model stored = settings.quantizationSteps() == 0 ? model : trainedQuantization(model, corpus);
            files.put(OutputFormat.LACUNA, writeLacuna(stored, staging));
        }
        Double bpcAfter = null;
        if (corpus != null) {
            progress.accept("evaluating held-out bpc of the compressed model");
            bpcAfter = Evaluator.bpc(asStored(model, files), corpus.validation());
        }
        Double diff = null;
        if (settings.formats().contains(OutputFormat.ONNX)) {
            Path onnx = staging.resolve(settings.stem() + OutputFormat.ONNX.extension());
            progress.accept("exporting ONNX");
            OnnxExporter.write(model, onnx, ExportOptions.defaults());
            // The staging folder is deleted afterwards, so the reference export never reaches the output directory.
            Path reference = staging.resolve("reference-dense.onnx");
            OnnxExporter.write(dense, reference, ExportOptions.defaults());
            diff = verify(onnx, reference);
            files.put(OutputFormat.ONNX, onnx);
        }
        return new Built(files, sparsity.prunableTotal(), sparsity.prunableNonzero(), sparsity.paramsTotal(),
                bpcBefore, bpcAfter, diff);
    }

    private void prune(Model model, CharCorpus corpus) {
        PruningMethod method = settings.method();
        double target = settings.targetSparsity();
        if (method == PruningMethod.ONESHOT) {
            progress.accept(String.format(Locale.ROOT, "pruning one-shot to sparsity %s", target));
            new OneShotPruningPolicy(model, target, false, false, false).pruneNow(model);
            return;
        }
        TrainConfig config = TrainConfig.builder().steps(settings.steps()).lr(FINE_TUNE_LR).seed(settings.seed())
                .build();
        long perEpoch = Trainer.stepsPerEpoch(corpus, config, model.architecture().bidirectional());
        progress.accept(String.format(Locale.ROOT, "pruning with %s to sparsity %s while fine-tuning %d steps%s",
                method.id(), target, settings.steps(), method == PruningMethod.HAN
                        ? " per round, " + CompressSettings.HAN_ROUNDS + " rounds" : ""));
        switch (method) {
            case GRADUAL -> runResumable(new Trainer(model, corpus, config, GradualPruningPolicy.builder(model,
                    settings.steps(), perEpoch).targetSparsity(target).build(), training));
            case AGP -> runResumable(new Trainer(model, corpus, config, AgpPruningPolicy.matching(model,
                    ScheduleSteps.defaults(settings.steps(), perEpoch), target, false, false), training));
            case HAN -> {
                try {
                    HanPruning.run(model, model.copy(), corpus, config, HanPruning.uniformQuality(model, target,
                            false), CompressSettings.HAN_ROUNDS, round -> training, settings.pruneCheckpoint(),
                            new Checkpoints(settings.checkpointEvery(), settings.resume()));
                } catch (InvalidOptionException e) {
                    throw asResumeSetting(e, settings.pruneCheckpoint());
                }
            }
            default -> throw new IllegalStateException("validated in CompressSettings: " + method);
        }
    }

    /**
     * Runs the pruning stage, checkpointing and resuming it as the settings ask. A missing checkpoint with
     * {@code resume} is not an error: the stage starts from step 0 and says so, as the CLI's {@code --resume} does.
     *
     * @throws InvalidOptionException naming {@code resume} when the checkpoint belongs to another run
     */
    private void runResumable(Trainer trainer) {
        Path file = settings.pruneCheckpoint();
        if (settings.checkpointEvery() > 0) {
            trainer.checkpointEvery(settings.checkpointEvery(), file);
        }
        if (settings.resume()) {
            if (Files.exists(file)) {
                TrainingCheckpoint checkpoint = TrainingCheckpoint.read(file);
                progress.accept("resuming from " + file + " after step " + checkpoint.completedSteps());
                trainer.resumeFrom(checkpoint);
            } else {
                progress.accept("no checkpoint " + file + " to resume from; fine-tuning from step 0");
            }
        }
        try {
            trainer.run();
        } catch (InvalidOptionException e) {
            throw asResumeSetting(e, file);
        }
    }

    /**
     * Trained quantization (Deep Compression §3.2): the .lacuna codebooks' centroids fine-tuned on the text, then
     * encoded again with the same options, which stores exactly the tuned centroids. Resumable like the pruning
     * stage, from {@link CompressSettings#quantizeCheckpoint()}.
     */
    private Model trainedQuantization(Model pruned, CharCorpus corpus) {
        TrainConfig config = TrainConfig.builder().steps(settings.quantizationSteps())
                .lr(TrainedQuantization.DEFAULT_LR).seed(settings.seed()).build();
        progress.accept(String.format(Locale.ROOT, "fine-tuning the %d-bit codebook centroids for %d steps (trained"
                + " quantization)", settings.bits(), settings.quantizationSteps()));
        Path checkpoint = settings.quantizeCheckpoint();
        try {
            return TrainedQuantization.run(pruned, encodingOptions(), corpus, config, checkpoint,
                    new Checkpoints(settings.checkpointEvery(), settings.resume()), progress, training).model();
        } catch (InvalidOptionException e) {
            throw asResumeSetting(e, checkpoint);
        }
    }

    /** The train module names the CLI's option; a compress job's settings are named as in CompressSettings. */
    private static InvalidOptionException asResumeSetting(InvalidOptionException e, Path checkpoint) {
        if (!e.option().equals("--resume")) {
            return e;
        }
        return new InvalidOptionException("resume", checkpoint + " was written by a different run (the model, the"
                + " training data or the settings differ); delete it or run without resume");
    }

    /**
     * The outputs are published (or up to date), so the checkpoints could only resume into the same result: delete
     * them, whatever the settings, since the output directory is often packaged (the Maven plugin's default puts it
     * in the jar).
     */
    private void discardCheckpoints() {
        deleteQuietly(settings.pruneCheckpoint());
        deleteQuietly(settings.prunedCheckpoint());
        deleteQuietly(settings.quantizeCheckpoint());
    }

    /** A failure to delete a checkpoint is reported, not fatal (the outputs are fine). */
    private void deleteQuietly(Path checkpoint) {
        try {
            Files.deleteIfExists(checkpoint);
        } catch (IOException e) {
            progress.accept("could not delete the checkpoint " + checkpoint + ": " + e.getMessage());
        }
    }

    private EncodingOptions encodingOptions() {
        EncodingOptions options = settings.bits() == 0 ? EncodingOptions.lossless()
                : EncodingOptions.quantized(settings.bits());
        return options.withHuffman(settings.huffman());
    }

    private Path writeLacuna(Model model, Path staging) {
        Path file = staging.resolve(settings.stem() + OutputFormat.LACUNA.extension());
        progress.accept("encoding .lacuna (" + (settings.bits() == 0 ? "float32" : settings.bits() + "-bit codebooks")
                + (settings.huffman() ? ", Huffman" : "") + ")");
        LacunaFormat.write(model, file, encodingOptions());
        return file;
    }

    /** The model as a user loads it: quantized values matter for bpc, so read back the .lacuna file if written. */
    private static Model asStored(Model model, Map<OutputFormat, Path> files) {
        Path lacuna = files.get(OutputFormat.LACUNA);
        return lacuna == null ? model : LacunaFormat.read(lacuna);
    }

    private Double verify(Path onnx, Path reference) {
        progress.accept("verifying the compressed ONNX in ONNX Runtime against " + (reference.equals(
                settings.model()) ? "the input model" : "the unpruned model's export"));
        return OnnxVerifier.verify(onnx, new OnnxVerifier.Options(reference, Map.of(), Map.of(), Map.of(),
                settings.seed())).maxAbsDiff();
    }

    private CharCorpus loadCorpus(Model model) {
        return CharCorpus.load(settings.trainingData(), model.vocabulary());
    }

    /**
     * An imported ONNX model carries zeros but no masks; the .lacuna encoder stores only masked-in positions
     * sparsely, so turn the zeros of the prunable tensors back into masks.
     */
    private static Model withMasksFromZeros(Model model) {
        for (TensorSpec spec : model.prunable(false)) {
            float[] values = model.tensor(spec.name()).data();
            boolean[] keep = new boolean[values.length];
            for (int i = 0; i < values.length; i++) {
                keep[i] = values[i] != 0f;
            }
            model.setMask(spec.name(), keep);
        }
        return model;
    }

    /** Moves the staged outputs into place and writes the report last. */
    private CompressReport publish(Path staging, Built built, String inputHash) {
        Path out = settings.outputDirectory();
        Path reportFile = settings.reportFile();
        List<CompressReport.Output> outputs = new ArrayList<>();
        try {
            Files.createDirectories(out);
            Files.deleteIfExists(reportFile);
            for (Map.Entry<OutputFormat, Path> e : built.files().entrySet()) {
                Path staged = e.getValue();
                outputs.add(new CompressReport.Output(e.getKey().id(), staged.getFileName().toString(),
                        Files.size(staged), Sha256.ofFile(staged)));
            }
            for (Path staged : built.files().values()) {
                Files.move(staged, out.resolve(staged.getFileName()), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new BadFileException(out, "cannot move the compressed files into place: " + e.getMessage(), e);
        }
        CompressReport report = new CompressReport(CompressReport.VERSION, inputHash, recordedSettings(),
                inputFile(settings.model()), settings.trainingData() == null ? null
                : inputFile(settings.trainingData()), built.params(), built.nonzero(),
                built.params() == 0 ? 0 : 1 - (double) built.nonzero() / built.params(), built.paramsTotal(),
                built.bpcBefore(), built.bpcAfter(), built.maxOutputDiff(), outputs);
        report.write(reportFile);
        return report;
    }

    private CompressReport.Settings recordedSettings() {
        return new CompressReport.Settings(settings.method().id(), settings.targetSparsity(), settings.steps(),
                settings.seed(), settings.bits(), settings.huffman(),
                settings.orderedFormats().stream().map(OutputFormat::id).toList(), settings.quantizationSteps());
    }

    private static CompressReport.InputFile inputFile(Path file) {
        try {
            return new CompressReport.InputFile(file.toString(), Files.size(file), Sha256.ofFile(file));
        } catch (IOException e) {
            throw new BadFileException(file, "cannot be read: " + e.getMessage(), e);
        }
    }

    /** A staging folder beside the output directory (same file system, so the final moves are atomic renames). */
    private Path createStaging() {
        Path parent = settings.outputDirectory().toAbsolutePath().normalize().getParent();
        try {
            Files.createDirectories(parent);
            return Files.createTempDirectory(parent, "." + settings.stem() + ".compress-");
        } catch (IOException e) {
            throw new BadFileException(parent, "cannot create a staging folder: " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path folder) {
        try (Stream<Path> paths = Files.walk(folder)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // Only leftovers of a staging folder outside the output directory; the job's outcome stands.
        }
    }

    private static boolean isOnnx(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    private static String sizes(CompressReport report) {
        StringBuilder b = new StringBuilder();
        for (CompressReport.Output o : report.outputs()) {
            b.append(b.length() == 0 ? "" : ", ").append(o.file()).append(' ')
                    .append(String.format(Locale.ROOT, "%,d", o.sizeBytes())).append(" bytes");
        }
        return b.toString();
    }
}
