package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Model;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.io.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** train → inspect → prune → eval on a tiny GRU, in process, as a user would chain them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] TINY = {"--batch", "4", "--seq", "16"};

    Path dir;
    Path text;
    Path dense;
    Path pruned;

    @BeforeAll
    void writeText(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        text = TinyText.write(dir, 300);
        dense = dir.resolve("dense.safetensors");
        pruned = dir.resolve("pruned.safetensors");
    }

    private static String[] args(String[] first, String... more) {
        String[] all = new String[first.length + more.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }

    @Test
    @Order(1)
    void trainWritesModelReportAndProvenance() throws Exception {
        Path report = dir.resolve("train.json");
        CliRun run = CliRun.of(args(new String[] {"train", "--data", text.toString(), "--cell", "gru", "--layers",
            "1", "--hidden", "12", "--embed", "6", "--steps", "40", "--seed", "3", "--lr", "0.01",
            "--out", dense.toString(), "--report-json", report.toString()}, TINY));
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("wrote " + dense), run::toString);
        assertTrue(run.err().contains("train: step 40/40 (100%)"), "plain progress lines on a non-terminal: " + run);

        JsonNode r = JSON.readTree(report.toFile());
        for (String field : List.of("method", "cell", "layers", "hidden", "params_total", "params_nonzero",
                "sparsity", "sparsity_predicted", "bpc_val", "bpc_val_input", "train_steps", "train_seconds",
                "steps_per_second", "pruning_seconds", "hyperparameters", "per_tensor", "history")) {
            assertTrue(r.has(field), "report lacks " + field);
        }
        assertEquals("dense", r.get("method").asText());
        assertEquals("gru", r.get("cell").asText());
        assertEquals(40, r.get("train_steps").asLong());
        assertEquals(40, r.get("history").size());
        assertEquals(0.0, r.get("sparsity").asDouble());
        assertTrue(r.get("sparsity_predicted").isNull());

        Model model = ModelCheckpoint.load(dense);
        assertEquals(model.architecture().parameterCount(), r.get("params_total").asLong());
        assertEquals(model.specs().size(), r.get("per_tensor").size());
        var meta = model.metadata();
        for (String key : List.of("lacuna.version", "lacuna.method", "lacuna.hyperparameters", "lacuna.sparsity",
                "lacuna.bpc_val", "lacuna.seed", "lacuna.data_sha256")) {
            assertTrue(meta.containsKey(key), "provenance lacks " + key);
        }
        assertEquals("3", meta.get("lacuna.seed"));
        assertEquals(Sha256.ofFile(text), meta.get("lacuna.data_sha256"));
        assertEquals(r.get("bpc_val").asDouble(), Double.parseDouble(meta.get("lacuna.bpc_val")));
    }

    @Test
    @Order(2)
    void inspectShowsEveryTensor() throws Exception {
        CliRun text = CliRun.of("inspect", dense.toString());
        assertEquals(0, text.exitCode(), text::toString);
        assertTrue(text.out().contains("rnn.weight_hh_l0"), text::toString);
        assertTrue(text.out().contains("lacuna.method"), text::toString);

        CliRun json = CliRun.of("inspect", dense.toString(), "--json");
        assertEquals(0, json.exitCode(), json::toString);
        JsonNode r = JSON.readTree(json.out());
        assertEquals("gru", r.get("architecture").get("cell").asText());
        assertEquals(12, r.get("architecture").get("hidden").asInt());
        long total = 0;
        for (JsonNode t : r.get("per_tensor")) {
            total += t.get("size").asLong();
        }
        assertEquals(r.get("params_total").asLong(), total);
        assertEquals("dense", r.get("metadata").get("lacuna.method").asText());
    }

    @Test
    @Order(3)
    void pruneReachesRoughlyTheTargetAndPrintsOnlyJson() throws Exception {
        Path report = dir.resolve("prune.json");
        CliRun run = CliRun.of(args(new String[] {"prune", "--model", dense.toString(), "--data", text.toString(),
            "--method", "gradual", "--target-sparsity", "0.6", "--steps", "60", "--seed", "3", "--out",
            pruned.toString(), "--report-json", report.toString(), "--json"}, TINY));
        assertEquals(0, run.exitCode(), run::toString);
        JsonNode printed = JSON.readTree(run.out()); // the whole of stdout must be one JSON document
        JsonNode written = JSON.readTree(report.toFile());
        assertEquals(written, printed);

        assertEquals("gradual", written.get("method").asText());
        assertEquals(0.6, written.get("sparsity_predicted").asDouble(), 0.02);
        double sparsity = written.get("sparsity").asDouble();
        // Sticky masks only grow; fine-tuning between refreshes moves weights, so the outcome is near, not at, 0.6.
        assertTrue(sparsity > 0.45 && sparsity < 0.75, "sparsity " + sparsity);
        assertFalse(written.get("bpc_val_input").isNull());
        assertTrue(written.get("hyperparameters").has("q_mode"), written.get("hyperparameters")::toString);

        Model model = ModelCheckpoint.load(pruned);
        boolean[] keep = model.mask("rnn.weight_hh_l0");
        assertNotNull(keep, "pruned tensors carry their masks");
        float[] w = model.tensor("rnn.weight_hh_l0").data();
        for (int i = 0; i < w.length; i++) {
            if (!keep[i]) {
                assertEquals(0f, w[i]);
            }
        }
        assertNull(model.mask("rnn.bias_hh_l0"), "biases are never pruned");
        assertEquals("gradual", model.metadata().get("lacuna.method"));
        assertEquals(sparsity, Double.parseDouble(model.metadata().get("lacuna.sparsity")), 1e-12);
    }

    @Test
    @Order(3)
    void sameSeedWritesTheSameBytes() throws Exception {
        Path again = dir.resolve("pruned-again.safetensors");
        CliRun run = CliRun.of(args(new String[] {"prune", "--model", dense.toString(), "--data", text.toString(),
            "--target-sparsity", "0.5", "--steps", "30", "--seed", "4", "--out", again.toString()}, TINY));
        assertEquals(0, run.exitCode(), run::toString);
        Path first = dir.resolve("pruned-first.safetensors");
        CliRun once = CliRun.of(args(new String[] {"prune", "--model", dense.toString(), "--data", text.toString(),
            "--target-sparsity", "0.5", "--steps", "30", "--seed", "4", "--out", first.toString()}, TINY));
        assertEquals(0, once.exitCode(), once::toString);
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(first), Files.readAllBytes(again)),
                "a checkpoint must depend only on its inputs and seed, not on timing");
    }

    @Test
    @Order(4)
    void evalAgreesWithTheReportOnTheHeldOutSplit() throws Exception {
        CliRun run = CliRun.of("eval", "--model", pruned.toString(), "--data", text.toString(), "--json");
        assertEquals(0, run.exitCode(), run::toString);
        JsonNode r = JSON.readTree(run.out());
        JsonNode report = JSON.readTree(dir.resolve("prune.json").toFile());
        assertEquals("validation", r.get("split").asText());
        assertEquals(report.get("bpc_val").asDouble(), r.get("bpc").asDouble(), 1e-9);

        CliRun all = CliRun.of("eval", "--model", pruned.toString(), "--data", text.toString(), "--split", "all");
        assertEquals(0, all.exitCode(), all::toString);
        assertTrue(all.out().contains("bits per character"), all::toString);
        int chars = Files.readString(text).codePointCount(0, Files.readString(text).length());
        assertTrue(all.out().contains(String.format(java.util.Locale.ROOT, "%,d characters", chars)), all::toString);
    }
}
