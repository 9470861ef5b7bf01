package dev.lacuna.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The PyTorch-exported cases in {@code testdata/onnx} (written by {@code tools/pytorch/make_onnx_cases.py}): each
 * {@code <case>.onnx} has a {@code <case>.json} with its architecture, input tokens [T][B] and PyTorch's logits
 * [T][B][V].
 */
final class OnnxCases {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OnnxCases() {
    }

    static Path directory() {
        // Surefire runs in modules/onnx; the cases live at the repository root.
        return Path.of("..", "..", "testdata", "onnx");
    }

    static Path onnx(String name) {
        return directory().resolve(name + ".onnx");
    }

    static List<String> names() {
        try (Stream<Path> files = Files.list(directory())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - ".json".length())).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode json(String name) {
        try {
            return JSON.readTree(directory().resolve(name + ".json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Architecture architecture(JsonNode root) {
        JsonNode a = root.get("architecture");
        return new Architecture(CellType.parse("cell", a.get("cell").asText()), a.get("vocab_size").asInt(),
                a.get("embed_dim").asInt(), a.get("hidden_size").asInt(), a.get("layers").asInt(),
                a.get("bidirectional").asBoolean(), RnnActivation.parse("activation", a.get("activation").asText()),
                a.get("linear_before_reset").asBoolean());
    }

    /** Lacuna's logits [T][B][V] for the case's tokens and initial states. */
    static float[][][] lacunaLogits(Model model, JsonNode root) {
        JsonNode tokens = root.get("tokens");
        int time = tokens.size();
        int batch = tokens.get(0).size();
        int[][] inputs = new int[batch][time];
        for (int t = 0; t < time; t++) {
            for (int b = 0; b < batch; b++) {
                inputs[b][t] = tokens.get(t).get(b).asInt();
            }
        }
        CharRnnNetwork net = new CharRnnNetwork(model.architecture(), new ParameterStore(model));
        RnnState state = net.zeroState(batch);
        Architecture arch = model.architecture();
        JsonNode h = root.get("initial_h");
        if (h != null && !h.isNull()) {
            for (int l = 0; l < arch.layers(); l++) {
                state.setHidden(l, 0, matrix(h.get(l * arch.directions())));
                JsonNode c = root.get("initial_c");
                if (c != null && !c.isNull()) {
                    state.setCell(l, 0, matrix(c.get(l * arch.directions())));
                }
            }
        }
        net.forward(inputs, new int[batch][time], state, false);
        float[][][] byBatch = net.logits();
        float[][][] out = new float[time][batch][];
        for (int t = 0; t < time; t++) {
            for (int b = 0; b < batch; b++) {
                out[t][b] = byBatch[b][t];
            }
        }
        return out;
    }

    /** Largest |Lacuna − PyTorch| over every logit of the case. */
    static double maxLogitDifference(Model model, JsonNode root) {
        float[][][] got = lacunaLogits(model, root);
        JsonNode want = root.get("logits");
        double max = 0;
        for (int t = 0; t < got.length; t++) {
            for (int b = 0; b < got[t].length; b++) {
                for (int v = 0; v < got[t][b].length; v++) {
                    max = Math.max(max, Math.abs(got[t][b][v] - want.get(t).get(b).get(v).asDouble()));
                }
            }
        }
        return max;
    }

    private static float[][] matrix(JsonNode rows) {
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new float[rows.get(i).size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = (float) rows.get(i).get(j).asDouble();
            }
        }
        return out;
    }
}
