package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.io.format.EncodingOptions;
import dev.lacuna.io.format.LacunaFileReport;
import dev.lacuna.io.format.LacunaFormat;
import dev.lacuna.io.format.Precision;
import dev.lacuna.io.format.StreamStats;
import dev.lacuna.io.format.TensorReport;
import dev.lacuna.pipeline.Json;
import dev.lacuna.pipeline.compress.TrainedQuantization;
import dev.lacuna.train.CentroidCheckpoint;
import dev.lacuna.train.CentroidFineTuner;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lacuna compress}: writes a model as a {@code .lacuna} file (docs/format.md). */
@Command(name = "compress", sortOptions = false, usageHelpAutoWidth = true,
        description = "Write a model as a compact .lacuna file: relative sparse indices, k-means codebooks"
                + " (--bits, optionally fine-tuned on text) or half precision (--fp16), optional Huffman coding"
                + " (Deep Compression).")
final class CompressCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "Model to compress (Lacuna checkpoint or .lacuna).")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "The .lacuna file to write.")
    Path out;

    @Option(names = "--bits", paramLabel = "B",
            description = "Quantize weight matrices to k-means codebooks of 2^B entries (2-8); biases go to fp16.")
    Integer bits;

    @Option(names = "--fp16", description = "Store every tensor in IEEE half precision.")
    boolean fp16;

    @Option(names = "--huffman", description = "Huffman-code the sparse indices, the codebook codes and the high"
            + " bytes of half-precision values where it helps.")
    boolean huffman;

    @Option(names = "--index-bits", paramLabel = "N", defaultValue = "0",
            description = "Width of the relative sparse indices, 1-16; 0 (default) picks the best of 2-8 per tensor.")
    int indexBits;

    @Option(names = "--codebook", paramLabel = "gate|tensor", defaultValue = "gate",
            description = "One codebook per gate block of each recurrent matrix (default) or per tensor.")
    String codebook;

    @Option(names = "--fine-tune-steps", paramLabel = "S", defaultValue = "0",
            description = "Trained quantization: fine-tune the shared centroids for S steps on --data (needs --bits).")
    long fineTuneSteps;

    @Option(names = "--data", paramLabel = "TEXT", description = "UTF-8 training text for --fine-tune-steps.")
    Path data;

    @Option(names = "--fine-tune-lr", paramLabel = "LR", defaultValue = "1e-4",
            description = "Adam learning rate of the centroids (default ${DEFAULT-VALUE}).")
    double fineTuneLr;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seeds the fine-tuning batches.")
    long seed;

    /** Checkpoints the centroid fine-tuning to {@code <OUT>.quantize.resume} (not {@code <OUT>.resume}). */
    @Mixin
    ResumeOptions resumption;

    @Option(names = "--report-json", paramLabel = "FILE", description = "Also write the size report as JSON.")
    Path reportJson;

    @Option(names = "--json", description = "Print the size report as JSON on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        EncodingOptions options = options();
        ResultOptions.checkTarget("OUT", out);
        ResultOptions.checkTarget("--report-json", reportJson);
        Model model = ModelFiles.read(in);
        CentroidFineTuner.Result tuned = null;
        if (fineTuneSteps > 0) {
            CharCorpus corpus = CharCorpus.load(data, model.vocabulary());
            TrainConfig config = TrainConfig.builder().steps(fineTuneSteps).lr(fineTuneLr).seed(seed).build();
            PrintWriter err = spec.commandLine().getErr();
            Consumer<String> notes = line -> {
                err.println(line);
                err.flush();
            };
            tuned = TrainedQuantization.run(model, options, corpus, config, CentroidCheckpoint.besideOutput(out),
                    resumption.toCheckpoints(), notes, null);
            model = tuned.model();
        }
        LacunaFileReport report = LacunaFormat.write(model, out, options);
        discardCheckpoint();
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("model", in.toString());
        map.put("output", out.toString());
        if (tuned != null) {
            map.put("fine_tune_steps", tuned.steps());
            map.put("bpc_quantized", tuned.bpcBefore());
            map.put("bpc_fine_tuned", tuned.bpcAfter());
        }
        map.putAll(reportMap(report));
        if (reportJson != null) {
            Json.write(reportJson, map);
        }
        PrintWriter stdout = spec.commandLine().getOut();
        if (json) {
            stdout.println(Json.pretty(map));
        } else {
            printTable(stdout, report);
            if (tuned != null) {
                stdout.printf(Locale.ROOT, "centroid fine-tuning, %d steps: held-out bpc %.4f -> %.4f%n",
                        tuned.steps(), tuned.bpcBefore(), tuned.bpcAfter());
            }
            stdout.printf(Locale.ROOT, "wrote %s%n", out);
        }
        stdout.flush();
        return 0;
    }

    /** The output is written, so the checkpoint could only resume into the same result: delete it. */
    private void discardCheckpoint() {
        if (!resumption.requested()) {
            return;
        }
        Path file = CentroidCheckpoint.besideOutput(out);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            PrintWriter notes = spec.commandLine().getErr();
            notes.println("note: could not delete the finished run's checkpoint " + file + ": " + e.getMessage());
            notes.flush();
        }
    }

    private EncodingOptions options() {
        if (fineTuneSteps < 0) {
            throw new InvalidOptionException("--fine-tune-steps", "must be 0 or more, found " + fineTuneSteps);
        }
        resumption.validate();
        if (resumption.requested() && fineTuneSteps == 0) {
            throw new InvalidOptionException(resumption.checkpointEvery != null ? "--checkpoint-every" : "--resume",
                    "needs --fine-tune-steps: only the centroid fine-tuning of compress runs long enough to checkpoint");
        }
        if (fineTuneSteps > 0 && (bits == null || data == null)) {
            throw new InvalidOptionException("--fine-tune-steps", "needs --bits (there are no centroids to tune"
                    + " otherwise) and --data TEXT");
        }
        if (bits != null && fp16) {
            throw new InvalidOptionException("--fp16", "cannot be combined with --bits (choose one precision)");
        }
        boolean perGate = switch (codebook.toLowerCase(Locale.ROOT)) {
            case "gate" -> true;
            case "tensor" -> false;
            default -> throw new InvalidOptionException("--codebook", "unknown value '" + codebook
                    + "' (expected gate or tensor)");
        };
        Precision precision = bits != null ? Precision.QUANTIZED : fp16 ? Precision.FP16 : Precision.LOSSLESS;
        return new EncodingOptions(precision, bits == null ? 0 : bits, huffman, indexBits, perGate);
    }

    /** The report as JSON-ready maps: overall sizes and one entry per tensor. Shared with {@code inspect}. */
    static Map<String, Object> reportMap(LacunaFileReport report) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("precision", report.precision());
        r.put("size_bytes", report.sizeBytes());
        r.put("dense_fp32_bytes", report.denseFp32Bytes());
        r.put("ratio", report.ratio());
        List<Map<String, Object>> tensors = new ArrayList<>();
        for (TensorReport t : report.tensors()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", t.name());
            e.put("shape", t.shape());
            e.put("encoding", t.encoding());
            e.put("masked", t.masked());
            e.put("elements", t.elements());
            e.put("stored", t.stored());
            e.put("fillers", t.fillers());
            e.put("payload_bytes", t.payloadBytes());
            e.put("bits_per_weight", t.bitsPerWeight());
            e.put("bits_per_index", t.bitsPerIndex());
            e.put("index_stream", streamMap(t.indexStream()));
            e.put("code_stream", streamMap(t.codeStream()));
            e.put("ratio", t.ratio());
            tensors.add(e);
        }
        r.put("per_tensor", tensors);
        return r;
    }

    private static Map<String, Object> streamMap(StreamStats s) {
        if (s == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("coding", s.coding());
        m.put("symbols", s.symbols());
        m.put("width", s.width());
        m.put("payload_bits", s.payloadBits());
        m.put("table_bytes", s.tableBytes());
        m.put("entropy_bits", s.entropyBits());
        m.put("efficiency", s.efficiency());
        return m;
    }

    /** The per-tensor encoding table. Shared with {@code inspect}. */
    static void printTable(PrintWriter out, LacunaFileReport report) {
        int width = report.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(6);
        int encodingWidth = report.tensors().stream().mapToInt(t -> t.encoding().length()).max().orElse(8);
        String row = "%-" + width + "s  %-12s  %-" + encodingWidth + "s  %9s  %9s  %8s  %7s  %7s  %14s  %14s  %7s%n";
        out.printf(Locale.ROOT, row, "tensor", "shape", "encoding", "stored", "bytes", "fillers", "b/w", "b/idx",
                "index H (eff)", "code H (eff)", "ratio");
        for (TensorReport t : report.tensors()) {
            out.printf(Locale.ROOT, row, t.name(), Arrays.toString(t.shape()).replace(" ", ""), t.encoding(),
                    String.format(Locale.ROOT, "%,d", t.stored()), String.format(Locale.ROOT, "%,d", t.payloadBytes()),
                    t.fillers(), fixed(t.bitsPerWeight()), fixed(t.bitsPerIndex()), entropy(t.indexStream()),
                    entropy(t.codeStream()), String.format(Locale.ROOT, "%.1fx", t.ratio()));
        }
        out.printf(Locale.ROOT, "%s: %,d bytes, dense fp32 %,d bytes, ratio %.1fx%n", report.precision(),
                report.sizeBytes(), report.denseFp32Bytes(), report.ratio());
    }

    private static String fixed(double value) {
        return String.format(Locale.ROOT, "%.2f", value);
    }

    private static String entropy(StreamStats s) {
        return s == null ? "-" : String.format(Locale.ROOT, "%.2f (%.0f%%)", s.entropyBits(), 100 * s.efficiency());
    }
}
