package dev.lacuna.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompareExperimentTest {
    static final double TARGET = 0.7;
    Path dir;
    Path text;
    Model dense;
    CharCorpus corpus;

    @BeforeAll
    void setUp(@TempDir Path tempDir) throws Exception {
        dir = tempDir;
        text = Tiny.text(dir, 300);
        dense = Tiny.trainedGru(text);
        corpus = CharCorpus.load(text, dense.vocabulary());
    }

    @Test
    void allMethodsAndAWidthSweepWriteThreeConsistentReports() throws Exception {
        CompareSettings settings = CompareSettings.builder(TARGET, Tiny.config(40).lr(3e-3).evalEvery(10).build())
                .hanRounds(2).hanRoundSteps(20L).sensitivityLevels(List.of(0.5, 0.8)).widths(List.of(4, 16))
                .widthSteps(30L).build();
        Path out = dir.resolve("all");
        List<String> labels = new ArrayList<>();
        RunListener listener = new RunListener() {
            @Override
            public TrainingListener onRun(String label, int index, int count) {
                labels.add(index + "/" + count + " " + label);
                return TrainingListener.NONE;
            }
        };
        float[] before = dense.tensor("rnn.weight_hh_l0").data().clone();
        CompareReport report = CompareExperiment.run(dense, text, corpus, settings, out, listener,
                CompressedSizeHook.NOT_AVAILABLE);
        assertTrue(report.complete());
        assertTrue(java.util.Arrays.equals(before, dense.tensor("rnn.weight_hh_l0").data()), "dense model untouched");
        assertTrue(labels.contains("3/8 han round 2/2"), labels::toString);
        assertTrue(labels.contains("8/8 gradual"), labels::toString);

        JsonNode json = new ObjectMapper().readTree(out.resolve(ReportFiles.JSON).toFile());
        assertTrue(json.get("complete").asBoolean());
        for (String field : List.of("hidden", "bpc_val", "params")) {
            assertTrue(json.get("dense").has(field), field);
        }
        assertEquals(16, json.get("dense").get("hidden").asInt());
        assertTrue(json.get("machine").has("cpus"));
        assertEquals(TARGET, json.get("settings").get("target_sparsity").asDouble());
        JsonNode methods = json.get("methods");
        assertEquals(PruningMethod.values().length, methods.size());
        for (JsonNode m : methods) {
            for (String field : List.of("method", "cell", "hidden", "sparsity", "sparsity_predicted", "params_nonzero",
                    "bpc_val", "train_steps", "train_seconds", "size_bytes")) {
                assertTrue(m.has(field), m.get("method") + " lacks " + field);
            }
            assertEquals("gru", m.get("cell").asText());
            assertTrue(Double.isFinite(m.get("bpc_val").asDouble()));
            assertTrue(m.get("size_bytes").get("sparse").asLong() < m.get("size_bytes").get("fp32").asLong());
            assertTrue(m.get("size_bytes").get("quantized").isNull(), "no encoder wired in yet");
            assertTrue(m.get("history").size() >= 2);
        }
        JsonNode gradual = method(methods, "gradual");
        JsonNode agp = method(methods, "agp");
        JsonNode han = method(methods, "han");
        JsonNode oneshot = method(methods, "oneshot");
        assertEquals(40, gradual.get("train_steps").asLong());
        assertEquals(40, agp.get("train_steps").asLong());
        assertEquals(40, han.get("train_steps").asLong(), "k rounds of the round steps");
        assertEquals(0, oneshot.get("train_steps").asLong());
        assertEquals(1.0, gradual.get("train_steps_relative").asDouble());
        // Level pruning hits the target up to rounding in each tensor; gradual's target mode does too.
        for (JsonNode m : List.of(agp, oneshot, method(methods, "oneshot+finetune"), gradual)) {
            assertEquals(TARGET, m.get("sparsity").asDouble(), 0.01, m.get("method").asText());
        }
        assertEquals(TARGET, oneshot.get("sparsity_predicted").asDouble(), 0.01);
        assertEquals(TARGET, han.get("sparsity_predicted").asDouble(), 0.01);
        assertTrue(json.has("sensitivity"), "han's s came from a sensitivity analysis");
        JsonNode lastThreshold = gradual.get("history").get(gradual.get("history").size() - 1).get("threshold");
        assertTrue(lastThreshold.asDouble() > 0);

        JsonNode pairs = json.get("width_pairs");
        assertEquals(1, pairs.size());
        assertEquals(16, pairs.get(0).get("wide_hidden").asInt());
        assertEquals(4, pairs.get(0).get("narrow_hidden").asInt());
        assertEquals(3, json.get("width_runs").size());
        // Equal budgets: every model of the sweep trained 30 + 40 steps, the pruned one from the dense one's 30-step
        // state, where its history continues the dense run's.
        for (JsonNode run : json.get("width_runs")) {
            assertEquals(70, run.get("train_steps").asLong(), run.toString());
        }
        JsonNode denseWide = json.get("width_runs").get(1);
        JsonNode sparseWide = json.get("width_runs").get(2);
        assertEquals("gradual", sparseWide.get("method").asText());
        assertEquals(bpcAt(denseWide, 30), bpcAt(sparseWide, 30));
        assertTrue(Double.isFinite(bpcAt(sparseWide, 30)));

        String html = Files.readString(out.resolve(ReportFiles.HTML));
        assertEquals(4, count(html, "<svg"), "sparsity, threshold, bpc and Pareto plots");
        for (String title : List.of("Sparsity vs step", "Pruning threshold vs step", "Held-out bpc vs step",
                "Held-out bpc vs non-zero parameters")) {
            assertTrue(html.contains(title), title);
        }
        assertFalse(html.toLowerCase().contains("http:") || html.toLowerCase().contains("https:"),
                "self-contained: no network reference");
        assertFalse(html.contains("<script"), "no script");
        String md = Files.readString(out.resolve(ReportFiles.MARKDOWN));
        assertTrue(md.contains("| method | cell | hidden | params | non-zeros | sparsity | predicted |"), md);
        assertTrue(md.contains("| oneshot+finetune | gru | 16 |"), md);
        assertTrue(md.contains("n/a"), "quantized and Huffman columns wait for the encoder");
        assertTrue(md.contains("Width sweep"), md);
        assertFalse(md.contains("Incomplete"));
        assertNoTempFiles(out);
    }

    @Test
    void aRunThatFailsLeavesAReportOfTheOthersMarkedIncomplete() throws Exception {
        // An absurd learning rate makes every training run diverge; oneshot trains nothing and still finishes.
        CompareSettings settings = CompareSettings.builder(TARGET, Tiny.config(20).lr(1e38).build())
                .methods(List.of(PruningMethod.GRADUAL, PruningMethod.ONESHOT)).build();
        Path out = dir.resolve("failing");
        List<String> failures = new ArrayList<>();
        CompareReport report = CompareExperiment.run(dense, text, corpus, settings, out, new RunListener() {
            @Override
            public void onFailure(String label, String message) {
                failures.add(label);
            }
        }, CompressedSizeHook.NOT_AVAILABLE);
        assertFalse(report.complete());
        assertEquals(List.of("gradual"), failures);
        JsonNode json = new ObjectMapper().readTree(out.resolve(ReportFiles.JSON).toFile());
        assertFalse(json.get("complete").asBoolean());
        assertEquals("failed", method(json.get("methods"), "gradual").get("status").asText());
        assertTrue(method(json.get("methods"), "gradual").get("error").asText().contains("diverged"));
        assertEquals("finished", method(json.get("methods"), "oneshot").get("status").asText());
        assertTrue(Files.readString(out.resolve(ReportFiles.MARKDOWN)).contains("**Incomplete:**"));
        assertTrue(Files.readString(out.resolve(ReportFiles.HTML)).contains("Incomplete"));
    }

    @Test
    void widthsThatCannotFormATradeOffAreRejectedBeforeTraining() {
        CompareSettings settings = CompareSettings.builder(0.9, Tiny.config(20).build()).widths(List.of(15, 16))
                .build();
        Path out = dir.resolve("never");
        InvalidOptionException e = assertThrows(InvalidOptionException.class, () -> CompareExperiment.run(dense,
                text, corpus, settings, out, RunListener.NONE, CompressedSizeHook.NOT_AVAILABLE));
        assertEquals("--widths", e.option());
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void settingsNameTheOptionAtFault() {
        var config = Tiny.config(20).build();
        assertEquals("--target-sparsity", assertThrows(InvalidOptionException.class,
                () -> CompareSettings.builder(1.0, config).build()).option());
        assertEquals("--widths", assertThrows(InvalidOptionException.class,
                () -> CompareSettings.builder(0.5, config).widths(List.of(16)).build()).option());
        assertEquals("--widths", assertThrows(InvalidOptionException.class,
                () -> CompareSettings.builder(0.5, config).widths(List.of(0, 16)).build()).option());
        assertEquals("--methods", assertThrows(InvalidOptionException.class,
                () -> CompareSettings.builder(0.5, config).methods(List.of()).build()).option());
        assertEquals("--levels", assertThrows(InvalidOptionException.class,
                () -> CompareSettings.builder(0.5, config).sensitivityLevels(List.of(0.5, 1.5)).build()).option());
        assertNull(CompareSettings.builder(0.5, config).build().toMap().get("nothing"));
    }

    static JsonNode method(JsonNode methods, String name) {
        for (JsonNode m : methods) {
            if (m.get("method").asText().equals(name)) {
                return m;
            }
        }
        throw new AssertionError("no " + name + " in " + methods);
    }

    static int count(String text, String needle) {
        Matcher m = Pattern.compile(Pattern.quote(needle)).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    static void assertNoTempFiles(Path folder) throws Exception {
        Set<String> names = new HashSet<>();
        try (var files = Files.list(folder)) {
            files.forEach(f -> names.add(f.getFileName().toString()));
        }
        assertEquals(Set.of(ReportFiles.JSON, ReportFiles.MARKDOWN, ReportFiles.HTML), names);
    }

    private static double bpcAt(JsonNode run, long step) {
        for (JsonNode p : run.get("history")) {
            if (p.get("step").asLong() == step) {
                return p.get("bpc_val").asDouble();
            }
        }
        return Double.NaN;
    }
}
