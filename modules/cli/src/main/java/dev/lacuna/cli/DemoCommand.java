package dev.lacuna.cli;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.SparsityReport;
import dev.lacuna.core.prune.GradualPruningPolicy;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.io.format.EncodingOptions;
import dev.lacuna.io.format.LacunaFileReport;
import dev.lacuna.io.format.LacunaFormat;
import dev.lacuna.onnx.ExportOptions;
import dev.lacuna.onnx.ExportReport;
import dev.lacuna.onnx.OnnxExporter;
import dev.lacuna.pipeline.Json;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.Evaluator;
import dev.lacuna.train.TrainConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lacuna demo}: the main job on defaults. Prunes the committed dense 2×256 LSTM trained on Moby-Dick to 90%
 * sparsity with the gradual method and compares dense and pruned on the held-out split.
 *
 * <p>The default of 1000 pruning steps (about three epochs of Moby-Dick) keeps the demo well under 15 minutes on
 * two cores; the schedule then prunes between steps 50 and 500 and fine-tunes the sparse model for the rest.
 *
 * <p>The dense model {@code testdata/demo/lstm-dense.safetensors} is made by (and, when absent, the demo runs):
 * <pre>lacuna train --data .cache/moby-dick.txt --cell lstm --layers 2 --hidden 256 --embed 64 --steps 3000 --seed 0
 *     --out testdata/demo/lstm-dense.safetensors</pre>
 */
@Command(name = "demo", sortOptions = false, usageHelpAutoWidth = true,
        description = "Prune a dense 2x256 LSTM trained on Moby-Dick to 90%% sparsity and compare it with the dense"
                + " model on held-out text.")
final class DemoCommand implements Callable<Integer> {
    static final String HOME_PROPERTY = "lacuna.home";
    static final Path DENSE_MODEL = Path.of("testdata", "demo", "lstm-dense.safetensors");
    /** The dense model's training report: its wall time is a measurement, so it stays out of the checkpoint. */
    static final Path DENSE_REPORT = Path.of("testdata", "demo", "lstm-dense.json");
    static final double TARGET_SPARSITY = 0.9;
    static final long DENSE_STEPS = 3000;
    static final long DENSE_SEED = 1;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "1000",
            description = "Pruning and fine-tuning steps, batch 32 x 100 characters (default ${DEFAULT-VALUE}).")
    long steps;

    @Option(names = "--cache", paramLabel = "DIR", description = "Folder for the corpus, the pruned model and the"
            + " report (default: .cache in the repository).")
    Path cache;

    @Option(names = "--json", description = "Print the pruning report as JSON on stdout instead of the table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        TrainingOptions.useBlasThreads(TrainingOptions.DEFAULT_THREADS);
        PrintWriter err = spec.commandLine().getErr();
        Path home = Path.of(System.getProperty(HOME_PROPERTY, "."));
        Path cacheDir = cache != null ? cache : home.resolve(".cache");
        Path data = DemoCorpus.ensure(cacheDir, err);
        Path densePath = home.resolve(DENSE_MODEL);
        Path denseReport = home.resolve(DENSE_REPORT);
        if (!Files.isRegularFile(densePath)) {
            trainDense(data, densePath, denseReport, err);
        }

        Model dense = ModelCheckpoint.load(densePath);
        SparsityReport denseSparsity = dense.sparsity(false);
        Map<String, String> denseMeta = Map.copyOf(dense.metadata());
        CharCorpus corpus = CharCorpus.load(data, dense.vocabulary());
        TrainConfig config = TrainConfig.builder().steps(steps).seed(DENSE_SEED).lr(PruneCommand.DEFAULT_LR).build();
        GradualPruningPolicy policy = GradualPruningPolicy.builder(dense, steps,
                PruneCommand.stepsPerEpoch(dense, corpus, config)).targetSparsity(TARGET_SPARSITY).build();
        err.printf(Locale.ROOT, "demo: pruning %s to %.0f%% in %d steps%n", densePath, 100 * TARGET_SPARSITY, steps);
        TrainingJob.Outcome outcome = PruneCommand.gradualJob(dense, data, corpus, config, policy, false)
                .run(ProgressListener.create("prune", err));

        Path prunedPath = cacheDir.resolve("demo").resolve("lstm-pruned-90.safetensors");
        Path reportPath = cacheDir.resolve("demo").resolve("report.json");
        ModelCheckpoint.save(outcome.model(), prunedPath);
        Map<String, Object> report = new LinkedHashMap<>(outcome.report());
        // How the pruned model ships: sparse ONNX for any runtime, and the compact .lacuna file (Deep Compression's
        // 5-bit codebooks + Huffman), whose bpc is measured on the model read back from the file.
        Path onnxPath = cacheDir.resolve("demo").resolve("lstm-pruned-90.onnx");
        Path lacunaPath = cacheDir.resolve("demo").resolve("lstm-pruned-90.lacuna");
        ExportReport onnx = OnnxExporter.write(outcome.model(), onnxPath, ExportOptions.defaults());
        LacunaFileReport packed = LacunaFormat.write(outcome.model(), lacunaPath,
                EncodingOptions.quantized(5).withHuffman(true));
        double packedBpc = Evaluator.bpc(LacunaFormat.read(lacunaPath), corpus.validation());
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("dense_fp32_bytes", packed.denseFp32Bytes());
        files.put("onnx", Map.of("path", onnxPath.toString(), "bytes", onnx.bytes()));
        files.put("lacuna", Map.of("path", lacunaPath.toString(), "bytes", packed.sizeBytes(), "bits", 5,
                "huffman", true, "bpc_val", packedBpc));
        report.put("files", files);
        Json.write(reportPath, report);

        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.pretty(report));
        } else {
            SparsityReport pruned = outcome.sparsity();
            out.print(table(List.of(
                    row("dense", denseSparsity, null, outcome.bpcValInput(), denseMeta.get("lacuna.train_steps"),
                            Json.readNumber(denseReport, "train_seconds")),
                    row("gradual 90%", pruned, outcome.predictedSparsity(), outcome.result().bpcVal(),
                            Long.toString(outcome.result().steps()),
                            outcome.result().trainSeconds()))));
            long dense32 = packed.denseFp32Bytes();
            out.printf(Locale.ROOT, "%nshipped as (dense fp32 weights: %,d bytes)%n", dense32);
            out.printf(Locale.ROOT, "  %-40s %,10d bytes  %5.1fx smaller  sparse ONNX, runs in ONNX Runtime%n",
                    onnxPath, onnx.bytes(), (double) dense32 / onnx.bytes());
            out.printf(Locale.ROOT, "  %-40s %,10d bytes  %5.1fx smaller  5-bit codebooks + Huffman, held-out bpc"
                    + " %.4f%n", lacunaPath, packed.sizeBytes(), (double) dense32 / packed.sizeBytes(), packedBpc);
            out.printf(Locale.ROOT, "pruned model %s%nreport %s%n", prunedPath, reportPath);
        }
        out.flush();
        return 0;
    }

    private static void trainDense(Path data, Path densePath, Path denseReport, PrintWriter err) {
        err.println("demo: no dense model at " + densePath + "; training it first (" + DENSE_STEPS
                + " steps, the progress line shows the ETA) with");
        err.println("  lacuna train --data " + data + " --cell lstm --layers 2 --hidden 256 --embed 64 --steps "
                + DENSE_STEPS + " --seed " + DENSE_SEED + " --out " + densePath + " --report-json " + denseReport);
        CharCorpus corpus = CharCorpus.load(data, null);
        Architecture arch = Architecture.of(CellType.LSTM, corpus.vocabulary().size(), 64, 256, 2);
        Model model = Model.initialize(arch, corpus.vocabulary(), DENSE_SEED);
        TrainConfig config = TrainConfig.builder().steps(DENSE_STEPS).seed(DENSE_SEED).lr(TrainCommand.DEFAULT_LR)
                .build();
        TrainingJob.Outcome outcome = new TrainingJob(model, data, corpus, config, null, null, false, null)
                .run(ProgressListener.create("train", err));
        ModelCheckpoint.save(outcome.model(), densePath);
        Json.write(denseReport, outcome.report());
    }

    private static String[] row(String name, SparsityReport s, Double predicted, Double bpc, String steps,
                                Double seconds) {
        return new String[] {
            name,
            String.format(Locale.ROOT, "%,d", s.paramsTotal()),
            String.format(Locale.ROOT, "%,d", s.paramsNonzero()),
            String.format(Locale.ROOT, "%.1f%%", 100 * s.sparsity()),
            predicted == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * predicted),
            bpc == null ? "-" : String.format(Locale.ROOT, "%.4f", bpc),
            steps == null ? "-" : steps,
            seconds == null ? "-" : String.format(Locale.ROOT, "%.0f", seconds),
        };
    }

    /** A plain text table with a header; the first column left-aligned, numbers right-aligned. */
    static String table(List<String[]> rows) {
        String[] header = {"model", "params", "non-zeros", "sparsity", "predicted", "held-out bpc", "steps",
            "seconds"};
        int[] width = new int[header.length];
        for (int c = 0; c < header.length; c++) {
            width[c] = header[c].length();
            for (String[] r : rows) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        StringBuilder s = new StringBuilder();
        for (String[] r : prepend(header, rows)) {
            for (int c = 0; c < r.length; c++) {
                String format = c == 0 ? "%-" + width[c] + "s" : "  %" + width[c] + "s";
                s.append(String.format(Locale.ROOT, format, r[c]));
            }
            s.append(System.lineSeparator());
        }
        return s.toString();
    }

    private static List<String[]> prepend(String[] header, List<String[]> rows) {
        List<String[]> all = new java.util.ArrayList<>();
        all.add(header);
        all.addAll(rows);
        return all;
    }
}
