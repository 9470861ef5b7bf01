package dev.lacuna.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.Model;
import dev.lacuna.io.statedict.StateDictImporter;
import dev.lacuna.train.nn.CharRnnNetwork;
import dev.lacuna.train.nn.ParameterStore;
import dev.lacuna.train.nn.RnnState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * PyTorch state_dicts imported by {@link StateDictImporter} compute what PyTorch computed: for every case in
 * {@code testdata/onnx} (written by {@code tools/pytorch/make_onnx_cases.py}), the safetensors and npz twins are
 * imported, run through {@link CharRnnNetwork}, and the logits and final left-to-right states are compared with the
 * reference PyTorch stored in {@code <case>.json}.
 */
class StateDictParityTest {
    private static final double TOLERANCE = 1e-5;
    private static final Path CASES = Path.of("..", "..", "testdata", "onnx");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void importedStateDictsReproducePyTorchOnEveryCase() throws IOException {
        List<Path> cases;
        try (Stream<Path> files = Files.list(CASES)) {
            cases = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        // a parity test that finds nothing to check must fail, not pass silently
        assertFalse(cases.isEmpty(), "no cases in " + CASES.toAbsolutePath());
        for (Path file : cases) {
            JsonNode root = JSON.readTree(file.toFile());
            // Only what names and shapes cannot tell (RNN activation) and the vocabulary come from the JSON.
            StateDictImporter importer = StateDictImporter.defaults().withArchitectureJson(
                    "{\"activation\": \"" + root.get("architecture").get("activation").asText() + "\"}");
            for (String twin : new String[] {"safetensors", "npz"}) {
                Model model = importer.read(CASES.resolve(root.get("files").get(twin).asText()));
                check(file.getFileName() + " (" + twin + ")", model, root);
            }
        }
    }

    private static void check(String label, Model model, JsonNode root) {
        Architecture arch = model.architecture();
        JsonNode tokens = root.get("tokens"); // [T][B]
        int time = tokens.size();
        int batch = tokens.get(0).size();
        int[][] inputs = new int[batch][time];
        for (int t = 0; t < time; t++) {
            for (int b = 0; b < batch; b++) {
                inputs[b][t] = tokens.get(t).get(b).asInt();
            }
        }
        CharRnnNetwork net = new CharRnnNetwork(arch, new ParameterStore(model));
        RnnState state = net.zeroState(batch);
        JsonNode h0 = root.get("initial_h");
        if (h0 != null && !h0.isNull()) {
            assertFalse(arch.bidirectional(), label + ": right-to-left directions always start from zero");
            for (int l = 0; l < arch.layers(); l++) {
                state.setHidden(l, 0, matrix(h0.get(l)));
                if (state.hasCell()) {
                    state.setCell(l, 0, matrix(root.get("initial_c").get(l)));
                }
            }
        }
        net.forward(inputs, inputs, state, false);

        float[][][] logits = net.logits(); // [B][T][V]
        JsonNode expected = root.get("logits"); // [T][B][V]
        for (int t = 0; t < time; t++) {
            for (int b = 0; b < batch; b++) {
                for (int v = 0; v < arch.vocabSize(); v++) {
                    assertClose(expected.get(t).get(b).get(v).asDouble(), logits[b][t][v],
                            label + " logit [t=" + t + "][b=" + b + "][" + v + "]");
                }
            }
        }
        // PyTorch's h_n rows are layer * directions + direction; the network keeps the left-to-right ones
        for (int l = 0; l < arch.layers(); l++) {
            int row = l * arch.directions();
            compare(root.get("final_h").get(row), state.hidden(l, 0), label + " final h of layer " + l);
            if (state.hasCell()) {
                compare(root.get("final_c").get(row), state.cell(l, 0), label + " final c of layer " + l);
            }
        }
    }

    private static void compare(JsonNode expected, float[][] actual, String label) {
        assertEquals(expected.size(), actual.length, label + ": batch");
        for (int b = 0; b < actual.length; b++) {
            for (int k = 0; k < actual[b].length; k++) {
                assertClose(expected.get(b).get(k).asDouble(), actual[b][k], label + " [" + b + "][" + k + "]");
            }
        }
    }

    private static void assertClose(double want, double got, String label) {
        assertTrue(Math.abs(want - got) <= TOLERANCE, label + " is " + got + ", PyTorch " + want);
    }

    private static float[][] matrix(JsonNode rows) {
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonNode row = rows.get(i);
            out[i] = new float[row.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = Float.parseFloat(row.get(j).asText());
            }
        }
        return out;
    }
}
