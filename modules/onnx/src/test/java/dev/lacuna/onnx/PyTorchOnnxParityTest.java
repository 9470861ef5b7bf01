package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lacuna's export of a PyTorch-trained model runs like PyTorch's own ONNX export of it: for every case in
 * {@code testdata/onnx} (written by {@code tools/pytorch/make_onnx_cases.py}) fed by tokens alone, the model is
 * built from the safetensors twin, exported, and run beside PyTorch's file in ONNX Runtime on the case's tokens;
 * outputs with the same names must agree within 1e-5 and equal the logits PyTorch computed.
 */
class PyTorchOnnxParityTest {
    private static final double TOLERANCE = 1e-5;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void exportsRunLikePyTorchsOwnExports() throws IOException {
        List<Path> cases = cases();
        assertFalse(cases.isEmpty(), "no tokens-only cases in " + caseDirectory().toAbsolutePath());
        for (Path json : cases) {
            JsonNode root = JSON.readTree(json.toFile());
            Path folder = json.getParent();
            Model model = model(root, folder.resolve(root.get("files").get("safetensors").asText()));
            Path pytorch = folder.resolve(root.get("files").get("onnx").asText());
            int time = root.get("time").asInt();
            int batch = root.get("batch").asInt();
            long[] tokens = new long[time * batch];
            for (int t = 0; t < time; t++) {
                for (int b = 0; b < batch; b++) {
                    tokens[t * batch + b] = root.get("tokens").get(t).get(b).asLong();
                }
            }
            NdArray input = NdArray.ofLongs(new long[] {time, batch}, tokens);
            NdArray pytorchLogits = NdArray.ofFloats(new long[] {time, batch, model.architecture().vocabSize()},
                    floats(root.get("logits")));
            for (SparseMode mode : SparseMode.values()) {
                Path exported = dir.resolve(json.getFileName() + "." + mode.id() + ".onnx");
                OnnxExporter.write(model, exported, ExportOptions.defaults().withSparse(mode));
                OnnxVerifier.Verification v = OnnxVerifier.verify(exported, new OnnxVerifier.Options(pytorch,
                        Map.of(OnnxExporter.TOKENS, input), Map.of(OnnxExporter.LOGITS, pytorchLogits), Map.of(),
                        1));
                String what = json.getFileName() + " " + mode.id();
                assertTrue(v.maxAbsDiff() <= TOLERANCE, what + ": " + v.outputs());
                assertEquals("expected", v.outputs().get(OnnxExporter.LOGITS).comparedWith(), what);
                assertEquals("reference", v.outputs().get(OnnxExporter.HIDDEN).comparedWith(), what);
                assertTrue(v.outputs().get(OnnxExporter.HIDDEN).maxAbsDiff() <= TOLERANCE, what + " h_n");
            }
        }
    }

    static Path caseDirectory() {
        return Path.of("..", "..", "testdata", "onnx");
    }

    /** Cases whose only graph input is time-major tokens (no initial states, sequence lengths or batch-first). */
    private static List<Path> cases() throws IOException {
        Path folder = caseDirectory();
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                JsonNode export = JSON.readTree(p.toFile()).get("export");
                if (export.get("graph_inputs").size() == 1 && export.get("tokens_layout").asText().equals("[T, B]")) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    private static Model model(JsonNode root, Path safetensors) {
        JsonNode a = root.get("architecture");
        Architecture arch = new Architecture(CellType.parse("cell", a.get("cell").asText()),
                a.get("vocab_size").asInt(), a.get("embed_dim").asInt(), a.get("hidden_size").asInt(),
                a.get("layers").asInt(), a.get("bidirectional").asBoolean(),
                RnnActivation.parse("activation", a.get("activation").asText()),
                a.get("linear_before_reset").asBoolean());
        int[] symbols = new int[root.get("vocabulary").size()];
        for (int i = 0; i < symbols.length; i++) {
            symbols[i] = root.get("vocabulary").get(i).asInt();
        }
        SafetensorsFile file = SafetensorsFile.read(safetensors);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (TensorSpec spec : arch.tensors()) {
            tensors.put(spec.name(), new Tensor(spec.name(), spec.shape(), file.floats(spec.name())));
        }
        return new Model(arch, new Vocabulary(symbols), tensors);
    }

    private static float[] floats(JsonNode nested) {
        List<Float> values = new ArrayList<>();
        collect(nested, values);
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    private static void collect(JsonNode node, List<Float> out) {
        if (node.isArray()) {
            node.forEach(child -> collect(child, out));
        } else {
            out.add(Float.parseFloat(node.asText()));
        }
    }
}
