package dev.lacuna.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

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
 * The runtime's logits against PyTorch's on every committed parity case ({@code testdata/pytorch-parity}, made by
 * {@code tools/pytorch/make_parity_cases.py}), dense and sparse kernels, one batch row at a time.
 */
class PyTorchParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void logitsMatchPyTorchOnEveryCase() throws IOException {
        Path dir = Path.of("..", "..", "testdata", "pytorch-parity");
        List<Path> cases;
        try (Stream<Path> files = Files.list(dir)) {
            cases = files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        }
        assertFalse(cases.isEmpty(), "no parity cases in " + dir.toAbsolutePath());
        for (Path file : cases) {
            JsonNode root = JSON.readTree(file.toFile());
            Model model = model(root);
            for (KernelChoice choice : new KernelChoice[] {KernelChoice.DENSE, KernelChoice.SPARSE}) {
                check(file.getFileName() + " " + choice, root, CompiledModel.of(model, choice));
            }
        }
    }

    private static void check(String name, JsonNode root, CompiledModel runtime) {
        JsonNode inputs = root.get("inputs");
        JsonNode initial = root.get("initial_state");
        for (int b = 0; b < inputs.size(); b++) {
            int[] ids = new int[inputs.get(b).size()];
            for (int t = 0; t < ids.length; t++) {
                ids[t] = inputs.get(b).get(t).asInt();
            }
            RecurrentState state = runtime.newState();
            if (initial != null && !initial.isNull()) {
                for (int l = 0; l < runtime.architecture().layers(); l++) {
                    state.setHidden(l, floats(initial.get("h").get(l).get(b)));
                    if (runtime.architecture().cell() == CellType.LSTM) {
                        state.setCell(l, floats(initial.get("c").get(l).get(b)));
                    }
                }
            }
            float[][] logits = runtime.sequenceLogits(ids, state);
            for (int t = 0; t < ids.length; t++) {
                for (int v = 0; v < runtime.architecture().vocabSize(); v++) {
                    assertEquals(root.get("logits").get(b).get(t).get(v).asDouble(), logits[t][v], 1e-5,
                            name + ": logit [" + b + "][" + t + "][" + v + "]");
                }
            }
        }
    }

    private static Model model(JsonNode root) {
        JsonNode config = root.get("config");
        Architecture arch = new Architecture(CellType.parse("cell", config.get("cell").asText()),
                config.get("vocab_size").asInt(), config.get("embed_dim").asInt(), config.get("hidden_size").asInt(),
                config.get("layers").asInt(), config.get("bidirectional").asBoolean(),
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
        return new Model(arch, new Vocabulary(symbols), tensors);
    }

    private static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.parseFloat(array.get(i).asText());
        }
        return out;
    }
}
