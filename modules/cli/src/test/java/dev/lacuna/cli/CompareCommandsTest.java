package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code compare}, {@code plan}, {@code sensitivity} and the baseline methods of {@code prune}, end to end. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompareCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    Path dir;
    Path text;
    Path model;

    @BeforeAll
    void setUp(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        text = TinyText.write(dir, 200);
        Vocabulary vocabulary = Vocabulary.of(Files.readString(text));
        model = dir.resolve("dense.safetensors");
        ModelCheckpoint.save(Model.initialize(Architecture.of(CellType.LSTM, vocabulary.size(), 4, 10, 1),
                vocabulary, 2), model);
    }

    private String[] compare(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("compare", "--model", model.toString(), "--data",
                text.toString(), "--target-sparsity", "0.8", "--steps", "12", "--batch", "4", "--seq", "8",
                "--han-rounds", "2", "--han-round-steps", "6", "--levels", "0.5,0.9", "--out", out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void compareRunsEveryMethodAndWritesTheThreeReports() throws Exception {
        Path out = dir.resolve("cmp");
        CliRun run = CliRun.of(compare(out));
        assertEquals(0, run.exitCode(), run::toString);
        for (String method : List.of("gradual", "agp", "han", "oneshot+finetune")) {
            assertTrue(run.out().contains(method), run::toString);
        }
        assertTrue(run.err().contains("[5/5] oneshot+finetune"), "progress names the run: " + run);
        JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
        assertEquals(5, report.get("methods").size());
        assertTrue(report.get("complete").asBoolean());
        assertEquals(12, report.get("settings").get("steps").asInt());
        String html = Files.readString(out.resolve("report.html"));
        assertEquals(4, html.split("<svg", -1).length - 1);
        assertFalse(html.contains("http"));
        assertTrue(Files.readString(out.resolve("report.md")).contains("| gradual | lstm | 10 |"));
    }

    @Test
    void compareJsonPrintsTheReport() throws Exception {
        CliRun run = CliRun.of(compare(dir.resolve("json"), "--methods", "oneshot", "--json"));
        assertEquals(0, run.exitCode(), run::toString);
        JsonNode report = JSON.readTree(run.out());
        assertEquals("oneshot", report.get("methods").get(0).get("method").asText());
        assertEquals(0.8, report.get("methods").get(0).get("sparsity").asDouble(), 0.01);
    }

    @Test
    void badCompareInputNamesTheOption() {
        Path out = dir.resolve("bad");
        expectOptionError("--methods", compare(out, "--methods", "gradual,lottery"));
        expectOptionError("--target-sparsity", replace(compare(out), "--target-sparsity", "1.2"));
        expectOptionError("--target-sparsity", replace(compare(out), "--target-sparsity", "0"));
        expectOptionError("--widths", compare(out, "--widths", "9,10"));
        expectOptionError("--widths", compare(out, "--widths", "10"));
        expectOptionError("--cells", compare(out, "--widths", "2,10", "--cells", "transformer"));
        assertFalse(Files.exists(out), "nothing written for bad input");
    }

    private static void expectOptionError(String option, String[] args) {
        CliRun run = CliRun.of(args);
        assertEquals(2, run.exitCode(), run::toString);
        String[] lines = run.errLines();
        assertEquals(1, lines.length, run::toString);
        assertTrue(lines[0].startsWith("lacuna: ") && lines[0].contains(option), run::toString);
    }

    private static String[] replace(String[] args, String option, String value) {
        String[] copy = args.clone();
        for (int i = 0; i < copy.length - 1; i++) {
            if (copy[i].equals(option)) {
                copy[i + 1] = value;
            }
        }
        return copy;
    }

    @Test
    void planPrintsTheScheduleAndPrediction() throws Exception {
        CliRun run = CliRun.of("plan", "--model", model.toString(), "--target-sparsity", "0.9", "--steps", "1000");
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("start 50, ramp 250, end 500"), run::toString);
        assertTrue(run.out().contains("predicted final sparsity 9"), run::toString);
        CliRun json = CliRun.of("plan", "--model", model.toString(), "--target-sparsity", "0.9", "--steps", "1000",
                "--data", text.toString(), "--batch", "4", "--seq", "8", "--json");
        assertEquals(0, json.exitCode(), json::toString);
        JsonNode plan = JSON.readTree(json.out());
        assertEquals(0.9, plan.get("sparsity_predicted").asDouble(), 0.01);
        assertTrue(plan.get("preview").size() > 3);
        assertTrue(plan.get("tensors").get(0).has("theta"));
        expectOptionError("--target-sparsity", new String[] {"plan", "--model", model.toString(),
            "--target-sparsity", "1.5", "--steps", "1000"});
    }

    @Test
    void sensitivityPrintsATableAndWritesPlots() throws Exception {
        Path out = dir.resolve("sens");
        CliRun run = CliRun.of("sensitivity", "--model", model.toString(), "--data", text.toString(), "--levels",
                "0.5,0.9", "--out", out.toString());
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.out().contains("rnn.weight_hh_l0"), run::toString);
        assertTrue(Files.readString(out.resolve("sensitivity.html")).contains("<svg"));
        assertEquals(3, JSON.readTree(out.resolve("sensitivity.json").toFile()).get("tensors").size());
        expectOptionError("--levels", new String[] {"sensitivity", "--model", model.toString(), "--data",
            text.toString(), "--levels", "0.5,1.0"});
    }

    @Test
    void pruneAcceptsTheBaselineMethods() throws Exception {
        for (String method : List.of("agp", "oneshot+finetune", "han")) {
            Path out = dir.resolve(method.replace('+', '_') + ".safetensors");
            CliRun run = CliRun.of("prune", "--model", model.toString(), "--data", text.toString(), "--method", method,
                    "--target-sparsity", "0.6", "--steps", "12", "--batch", "4", "--seq", "8", "--han-rounds", "2",
                    "--out", out.toString(), "--json");
            assertEquals(0, run.exitCode(), run::toString);
            JsonNode report = JSON.readTree(run.out());
            assertEquals(method, report.get("method").asText());
            assertEquals(0.6, report.get("sparsity").asDouble(), 0.02, method);
            assertEquals(method.equals("han") ? 24 : 12, report.get("train_steps").asInt(), method);
            assertEquals(method, ModelCheckpoint.load(out).metadata().get("lacuna.method"));
        }
        Path out = dir.resolve("oneshot.safetensors");
        CliRun run = CliRun.of("prune", "--model", model.toString(), "--data", text.toString(), "--method", "oneshot",
                "--target-sparsity", "0.6", "--out", out.toString(), "--json");
        assertEquals(0, run.exitCode(), run::toString);
        assertEquals(0, JSON.readTree(run.out()).get("train_steps").asInt());
        expectOptionError("--target-sparsity", new String[] {"prune", "--model", model.toString(), "--data",
            text.toString(), "--method", "agp", "--steps", "5", "--out", out.toString()});
        expectOptionError("--method", new String[] {"prune", "--model", model.toString(), "--data",
            text.toString(), "--method", "lottery", "--steps", "5", "--out", out.toString()});
    }
}
