package dev.lacuna.cli;

import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.io.ModelFiles;
import dev.lacuna.io.ModelFormat;
import dev.lacuna.onnx.ExportOptions;
import dev.lacuna.onnx.ExportReport;
import dev.lacuna.onnx.OnnxExporter;
import dev.lacuna.onnx.SparseMode;
import dev.lacuna.pipeline.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code lacuna convert}: reads a model in one format and writes it in another, chosen by the extensions. */
@Command(name = "convert", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Convert a model between formats, chosen by file extension: .onnx (ONNX, with sparse storage "
                + "of pruned weights), .safetensors (Lacuna checkpoint or PyTorch state_dict), .npz and .lacuna"
                + " (lossless; use compress to quantize).",
                "ONNX output stores each pruned tensor in the --sparse form when that is smaller, else dense."})
final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "Model to read (.onnx, .safetensors, .npz or .lacuna).")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "Model to write (.onnx, .safetensors, .npz or .lacuna).")
    Path out;

    @Option(names = "--sparse", paramLabel = "MODE", description = "ONNX storage of pruned tensors: none, "
            + "initializer (ONNX sparse_initializer; ONNX Runtime reads it, the ONNX checker does not) or scatter "
            + "(values and indices rebuilt by standard ops; checker-clean). Default: scatter when the model is "
            + "pruned, else none.")
    String sparse;

    @Option(names = "--opset", paramLabel = "N", description = "ONNX opset, " + ExportOptions.MIN_OPSET + " to "
            + ExportOptions.MAX_OPSET + " (default: ${DEFAULT-VALUE}).")
    int opset = ExportOptions.DEFAULT_OPSET;

    @Option(names = "--json", description = "Print what was written as JSON on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        boolean onnxOut = isOnnx(out);
        ModelFormat outFormat = ModelFiles.formatFor(out);
        if (!onnxOut && sparse != null) {
            throw new InvalidOptionException("--sparse", "applies to ONNX output only, not to " + out);
        }
        ExportOptions options = new ExportOptions(sparse == null ? null : SparseMode.parse("--sparse", sparse),
                opset, Version.current());
        ResultOptions.checkTarget("OUT", out);
        Model model = ModelFiles.read(in);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("in", in.toString());
        result.put("out", out.toString());
        if (onnxOut) {
            ExportReport report = OnnxExporter.write(model, out, options);
            result.put("format", "onnx");
            result.put("bytes", report.bytes());
            result.put("sparse", report.mode().id());
            result.put("tensors", report.tensors().stream().map(ConvertCommand::tensor).toList());
        } else {
            outFormat.write(model, out);
            result.put("format", outFormat.id());
        }
        PrintWriter stdout = spec.commandLine().getOut();
        if (json) {
            stdout.println(Json.pretty(result));
        } else {
            stdout.println(summary(result));
        }
        stdout.flush();
        return 0;
    }

    private static boolean isOnnx(Path file) {
        return file.getFileName() != null && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    private static Map<String, Object> tensor(ExportReport.StoredTensor t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", t.name());
        m.put("storage", t.storage().id());
        m.put("size", t.size());
        m.put("nonzero", t.nonzero());
        m.put("bytes", t.bytes());
        return m;
    }

    @SuppressWarnings("unchecked")
    private static String summary(Map<String, Object> result) {
        if (!"onnx".equals(result.get("format"))) {
            return "wrote " + result.get("out");
        }
        List<Map<String, Object>> tensors = (List<Map<String, Object>>) result.get("tensors");
        long sparseCount = tensors.stream().filter(t -> !"none".equals(t.get("storage"))).count();
        return String.format(Locale.ROOT, "wrote %s (%,d bytes; %s storage: %d of %d weight tensors sparse)",
                result.get("out"), (Long) result.get("bytes"), result.get("sparse"), sparseCount, tensors.size());
    }
}
