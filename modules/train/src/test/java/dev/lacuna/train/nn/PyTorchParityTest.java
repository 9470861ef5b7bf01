package dev.lacuna.train.nn;

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
import dev.lacuna.core.Vocabulary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Forward pass in float32 against logits and losses PyTorch computed for the same weights and inputs
 * ({@code testdata/pytorch-parity}, written by {@code tools/pytorch/make_parity_cases.py}).
 */
class PyTorchParityTest {
    private static final double LOGIT_TOLERANCE = 1e-5;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void forwardMatchesPyTorchOnEveryCase() throws IOException {
        List<Path> cases = parityCases();
        // An empty or missing directory must fail: a parity test that checks nothing would pass silently.
        assertFalse(cases.isEmpty(), "no parity cases in " + caseDirectory().toAbsolutePath());
        for (Path file : cases) {
            checkCase(file, JSON.readTree(file.toFile()));
        }
    }

    private static Path caseDirectory() {
        // Surefire runs in modules/train; the cases live at the repository root.
        return Path.of("..", "..", "testdata", "pytorch-parity");
    }

    private static List<Path> parityCases() throws IOException {
        Path dir = caseDirectory();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        }
    }

    private static void checkCase(Path file, JsonNode root) {
        JsonNode config = root.get("config");
        Architecture arch = new Architecture(
                CellType.parse("cell", config.get("cell").asText()),
                config.get("vocab_size").asInt(),
                config.get("embed_dim").asInt(),
                config.get("hidden_size").asInt(),
                config.get("layers").asInt(),
                config.get("bidirectional").asBoolean(),
                RnnActivation.parse("activation", config.get("activation").asText()),
                config.get("linear_before_reset").asBoolean());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        root.get("tensors").fields().forEachRemaining(e -> {
            JsonNode shape = e.getValue().get("shape");
            int[] dims = new int[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = shape.get(i).asInt();
            }
            tensors.put(e.getKey(), new Tensor(e.getKey(), dims, floats(e.getValue().get("data"))));
        });
        int[] symbols = new int[arch.vocabSize()];
        for (int i = 0; i < symbols.length; i++) {
            symbols[i] = 'a' + i;
        }
        Model model = new Model(arch, new Vocabulary(symbols), tensors);
        CharRnnNetwork net = new CharRnnNetwork(arch, new ParameterStore(model));
        int[][] inputs = ints(root.get("inputs"));
        int[][] targets = ints(root.get("targets"));
        RnnState state = net.zeroState(inputs.length);
        JsonNode initial = root.get("initial_state");
        if (initial != null && !initial.isNull()) {
            assertFalse(arch.bidirectional(), file + ": right-to-left directions always start from zero");
            for (int l = 0; l < arch.layers(); l++) {
                state.setHidden(l, 0, matrix(initial.get("h").get(l)));
                if (state.hasCell()) {
                    state.setCell(l, 0, matrix(initial.get("c").get(l)));
                }
            }
        }

        double loss = net.forward(inputs, targets, state, false);
        float[][][] logits = net.logits();
        JsonNode expected = root.get("logits");
        assertEquals(inputs.length, expected.size(), file + ": batch");
        for (int b = 0; b < inputs.length; b++) {
            for (int t = 0; t < inputs[b].length; t++) {
                for (int v = 0; v < arch.vocabSize(); v++) {
                    double want = expected.get(b).get(t).get(v).asDouble();
                    double got = logits[b][t][v];
                    assertTrue(Math.abs(want - got) <= LOGIT_TOLERANCE,
                            file.getFileName() + ": logit [" + b + "][" + t + "][" + v + "] is " + got
                                    + ", PyTorch " + want);
                }
            }
        }
        double wantLoss = root.get("loss_sum").asDouble();
        // the loss sums batch·time terms, each within about the logit tolerance
        assertEquals(wantLoss, loss, LOGIT_TOLERANCE * net.countedTargets() * 2, file.getFileName() + ": loss");
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.parseFloat(array.get(i).asText());
        }
        return out;
    }

    private static float[][] matrix(JsonNode rows) {
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = floats(rows.get(i));
        }
        return out;
    }

    private static int[][] ints(JsonNode rows) {
        int[][] out = new int[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonNode row = rows.get(i);
            out[i] = new int[row.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = row.get(j).asInt();
            }
        }
        return out;
    }
}
