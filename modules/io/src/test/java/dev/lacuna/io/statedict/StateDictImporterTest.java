package dev.lacuna.io.statedict;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Inferring a Lacuna model from PyTorch state_dict names and shapes. */
class StateDictImporterTest {
    private static final Path ONNX_CASES = Path.of("..", "..", "testdata", "onnx");
    private static final Path FILE = Path.of("sd.safetensors");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<Path> caseFiles() throws IOException {
        try (Stream<Path> files = Files.list(ONNX_CASES)) {
            return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    @Test
    void infersTheArchitectureOfEveryPyTorchCaseFromSafetensorsAndNpz() throws IOException {
        List<Path> cases = caseFiles();
        assertFalse(cases.isEmpty(), "no cases in " + ONNX_CASES.toAbsolutePath());
        for (Path json : cases) {
            JsonNode c = JSON.readTree(json.toFile());
            JsonNode a = c.get("architecture");
            // RNN activation cannot be inferred: the case's JSON states it, as a user would
            StateDictImporter importer = StateDictImporter.defaults()
                    .withArchitectureJson("{\"activation\": \"" + a.get("activation").asText() + "\"}");
            Architecture expected = new Architecture(CellType.parse("cell", a.get("cell").asText()),
                    a.get("vocab_size").asInt(), a.get("embed_dim").asInt(), a.get("hidden_size").asInt(),
                    a.get("layers").asInt(), a.get("bidirectional").asBoolean(),
                    RnnActivation.parse("activation", a.get("activation").asText()),
                    a.get("linear_before_reset").asBoolean());
            Model fromSafetensors = importer.read(ONNX_CASES.resolve(c.get("files").get("safetensors").asText()));
            Model fromNpz = importer.read(ONNX_CASES.resolve(c.get("files").get("npz").asText()));
            assertEquals(expected, fromSafetensors.architecture(), json.getFileName().toString());
            assertEquals(expected, fromNpz.architecture(), json.getFileName().toString());
            for (Tensor t : fromSafetensors.tensors().values()) {
                assertArrayEquals(t.data(), fromNpz.tensor(t.name()).data(), json.getFileName() + " " + t.name());
            }
            assertEquals("true", fromNpz.metadata().get(StateDictImporter.PLACEHOLDER_VOCABULARY_KEY));
        }
    }

    /** A state_dict of a small model, renamed by {@code rename}. */
    private static Map<String, StateDictTensor> stateDict(Model model, UnaryOperator<String> rename) {
        Map<String, StateDictTensor> out = new LinkedHashMap<>();
        for (Tensor t : model.tensors().values()) {
            String name = rename.apply(t.name());
            if (name != null) {
                out.put(name, new StateDictTensor(name, "F32", t.shape(), true, t.data().clone()));
            }
        }
        return out;
    }

    private static Model model(CellType cell, int embed, int layers, boolean bidirectional) {
        return Model.initialize(new Architecture(cell, 6, embed, 4, layers, bidirectional, null, true),
                Vocabulary.of("abcdef"), 11);
    }

    private static Model importDefaults(Map<String, StateDictTensor> sd) {
        return StateDictImporter.defaults().importTensors(FILE, sd, Map.of());
    }

    private static void assertBad(Runnable action, String... fragments) {
        BadFileException e = assertThrows(BadFileException.class, action::run);
        assertEquals(FILE, e.file());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
    }

    @Test
    void detectsOtherPrefixesAndCommonEmbeddingAndHeadNames() {
        Model original = model(CellType.GRU, 3, 2, false);
        Map<String, StateDictTensor> sd = stateDict(original, n -> n
                .replace("rnn.", "encoder.gru.").replace("embedding.weight", "embed.weight")
                .replace("head.", "decoder."));
        Model imported = importDefaults(sd);
        assertEquals(original.architecture(), imported.architecture());
        for (Tensor t : original.tensors().values()) {
            assertArrayEquals(t.data(), imported.tensor(t.name()).data(), t.name());
        }
        assertEquals(List.copyOf(original.tensors().keySet()), List.copyOf(imported.tensors().keySet()));
    }

    @Test
    void namesCanBeGivenExplicitly() {
        Model original = model(CellType.LSTM, 3, 1, true);
        Map<String, StateDictTensor> sd = stateDict(original, n -> n
                .replace("rnn.", "").replace("embedding.weight", "tok").replace("head.", "lm."));
        Model imported = StateDictImporter.defaults().withRnnPrefix("").withEmbedding("tok")
                .withHead("lm.weight", "lm.bias").importTensors(FILE, sd, Map.of());
        assertEquals(original.architecture(), imported.architecture());
        assertBad(() -> StateDictImporter.defaults().withRnnPrefix("lstm.").importTensors(FILE, sd, Map.of()),
                "'lstm.weight_ih_l0'");
    }

    @Test
    void infersEveryCellOneHotInputAndDepth() {
        for (CellType cell : CellType.values()) {
            for (int embed : new int[] {0, 3}) {
                Model original = model(cell, embed, 2, false);
                assertEquals(original.architecture(), importDefaults(stateDict(original, n -> n)).architecture());
            }
        }
    }

    @Test
    void theArchitectureJsonSuppliesWhatShapesCannotAndIsCheckedAgainstThem() {
        Model rnn = model(CellType.RNN, 3, 1, false);
        Model relu = StateDictImporter.defaults().withArchitectureJson("{\"activation\": \"relu\"}")
                .importTensors(FILE, stateDict(rnn, n -> n), Map.of());
        assertEquals(RnnActivation.RELU, relu.architecture().activation());
        assertEquals(RnnActivation.TANH, importDefaults(stateDict(rnn, n -> n)).architecture().activation());

        Model gru = model(CellType.GRU, 3, 1, false);
        assertFalse(StateDictImporter.defaults().withArchitectureJson("{\"linear_before_reset\": false}")
                .importTensors(FILE, stateDict(gru, n -> n), Map.of()).architecture().linearBeforeReset());
        assertBad(() -> StateDictImporter.defaults().withArchitectureJson("{\"cell\": \"lstm\", \"hidden_size\": 4}")
                .importTensors(FILE, stateDict(gru, n -> n), Map.of()), "cell = lstm", "give gru");
        assertBad(() -> StateDictImporter.defaults().withArchitectureJson("{\"layers\": 2}")
                .importTensors(FILE, stateDict(gru, n -> n), Map.of()), "layers = 2");

        InvalidOptionException typo = assertThrows(InvalidOptionException.class,
                () -> StateDictImporter.defaults().withArchitectureJson("{\"hidden\": 4}"));
        assertTrue(typo.getMessage().contains("unknown field 'hidden'"), typo.getMessage());
        assertThrows(InvalidOptionException.class, () -> StateDictImporter.defaults().withArchitectureJson("[1]"));
        assertThrows(InvalidOptionException.class,
                () -> StateDictImporter.defaults().withArchitectureJson("{\"activation\": \"gelu\"}"));
    }

    @Test
    void missingBiasesBecomeZerosButPartlyMissingOnesAreAnError() {
        Model original = model(CellType.LSTM, 3, 1, false);
        Model noBias = importDefaults(stateDict(original, n -> n.startsWith("rnn.bias") || n.equals("head.bias")
                ? null : n));
        for (float v : noBias.tensor("rnn.bias_ih_l0").data()) {
            assertEquals(0f, v);
        }
        for (float v : noBias.tensor(Architecture.HEAD_BIAS).data()) {
            assertEquals(0f, v);
        }
        assertBad(() -> importDefaults(stateDict(original, n -> n.equals("rnn.bias_hh_l0") ? null : n)),
                "'rnn.bias_hh_l0' is missing");
    }

    @Test
    void vocabularyComesFromTheOptionTheMetadataOrAMarkedPlaceholder() {
        Model original = model(CellType.RNN, 0, 1, false);
        Map<String, StateDictTensor> sd = stateDict(original, n -> n);
        Model placeholder = importDefaults(sd);
        assertEquals(0xE000, placeholder.vocabulary().codePoint(0));
        assertEquals("true", placeholder.metadata().get(StateDictImporter.PLACEHOLDER_VOCABULARY_KEY));
        assertEquals("sd.safetensors", placeholder.metadata().get(StateDictImporter.IMPORTED_FROM_KEY));

        Model fromMetadata = StateDictImporter.defaults().importTensors(FILE, sd,
                Map.of(ModelCheckpoint.VOCABULARY_KEY, "[97,98,99,100,101,102]", "note", "kept"));
        assertEquals(Vocabulary.of("abcdef"), fromMetadata.vocabulary());
        assertEquals("kept", fromMetadata.metadata().get("note"));
        assertNull(fromMetadata.metadata().get(StateDictImporter.PLACEHOLDER_VOCABULARY_KEY));

        Model fromOption = StateDictImporter.defaults().withVocabulary(Vocabulary.of("uvwxyz"))
                .importTensors(FILE, sd, Map.of());
        assertEquals(Vocabulary.of("uvwxyz"), fromOption.vocabulary());
        assertBad(() -> StateDictImporter.defaults().withVocabulary(Vocabulary.of("xyz"))
                .importTensors(FILE, sd, Map.of()), "3 symbols", "6 classes");
        assertBad(() -> StateDictImporter.defaults().importTensors(FILE, sd,
                Map.of(ModelCheckpoint.VOCABULARY_KEY, "[98,97,99,100,101,102]")), "strictly ascending");
    }

    @Test
    void readsMasksAndTorchPruneReparametrisation() {
        Model original = model(CellType.GRU, 3, 1, false);
        Map<String, StateDictTensor> sd = stateDict(original, n -> n.equals("rnn.weight_hh_l0")
                ? "rnn.weight_hh_l0_orig" : n);
        float[] mask = new float[original.tensor("rnn.weight_hh_l0").size()];
        for (int i = 0; i < mask.length; i += 3) {
            mask[i] = 1f;
        }
        int[] shape = original.tensor("rnn.weight_hh_l0").shape();
        sd.put("rnn.weight_hh_l0_mask", new StateDictTensor("rnn.weight_hh_l0_mask", "F32", shape, true, mask));
        Model pruned = importDefaults(sd);
        boolean[] keep = pruned.mask("rnn.weight_hh_l0");
        float[] w = pruned.tensor("rnn.weight_hh_l0").data();
        float[] before = original.tensor("rnn.weight_hh_l0").data();
        for (int i = 0; i < keep.length; i++) {
            assertEquals(i % 3 == 0, keep[i]);
            assertEquals(keep[i] ? before[i] : 0f, w[i]);
        }
        mask[1] = 0.5f;
        assertBad(() -> importDefaults(sd), "mask 'rnn.weight_hh_l0_mask'", "0.5");
    }

    @Test
    void inconsistentOrAmbiguousTensorsAreErrorsNamingTheTensor() {
        Model lstm = model(CellType.LSTM, 3, 2, false);
        assertBad(() -> importDefaults(stateDict(lstm, n -> n.equals("rnn.weight_hh_l1") ? null : n)),
                "missing tensor 'rnn.weight_hh_l1'");
        Map<String, StateDictTensor> extra = stateDict(lstm, n -> n);
        extra.put("norm.weight", new StateDictTensor("norm.weight", "F32", new int[] {4}, true, new float[4]));
        assertBad(() -> importDefaults(extra), "unexpected tensor(s) [norm.weight]");
        Map<String, StateDictTensor> twoHeads = stateDict(lstm, n -> n);
        twoHeads.put("fc.weight", twoHeads.get("head.weight"));
        assertBad(() -> importDefaults(twoHeads), "several tensors could be the head", "'fc.weight'", "'head.weight'");
        Map<String, StateDictTensor> twoStacks = stateDict(lstm, n -> n);
        twoStacks.put("other.weight_ih_l0", twoStacks.get("rnn.weight_ih_l0"));
        assertBad(() -> importDefaults(twoStacks), "several prefixes", "'other.'", "'rnn.'");
        Map<String, StateDictTensor> odd = stateDict(lstm, n -> n);
        odd.put("rnn.weight_hh_l0", new StateDictTensor("rnn.weight_hh_l0", "F32", new int[] {8, 4}, true,
                new float[32]));
        assertBad(() -> importDefaults(odd), "'rnn.weight_hh_l0'", "2 × its hidden size 4");
        Map<String, StateDictTensor> ints = stateDict(lstm, n -> n);
        ints.put("head.bias", new StateDictTensor("head.bias", "I64", new int[] {6}, false, new float[6]));
        assertBad(() -> importDefaults(ints), "'head.bias'", "I64", "floating point");
        Map<String, StateDictTensor> noEmbedding = stateDict(lstm, n -> n.equals("embedding.weight") ? null : n);
        assertBad(() -> importDefaults(noEmbedding), "layer 0 reads 3 features", "no embedding");
        assertBad(() -> importDefaults(Map.of()), "no recurrent layer found");
        Map<String, StateDictTensor> proj = stateDict(lstm, n -> n);
        proj.put("rnn.weight_hr_l0", new StateDictTensor("rnn.weight_hr_l0", "F32", new int[] {2, 4}, true,
                new float[8]));
        assertBad(() -> importDefaults(proj), "proj_size");
        Model bidir = model(CellType.RNN, 3, 1, true);
        assertBad(() -> importDefaults(stateDict(bidir, n -> n.equals("rnn.weight_hh_l0_reverse") ? null : n)),
                "missing tensor 'rnn.weight_hh_l0_reverse'");
        Model uni = model(CellType.RNN, 3, 1, false);
        Map<String, StateDictTensor> gap = stateDict(uni, n -> n);
        gap.put("rnn.weight_ih_l2", gap.get("rnn.weight_ih_l0"));
        assertBad(() -> importDefaults(gap), "'rnn.weight_ih_l2' does not fit a 1-layer");
    }
}
