package dev.lacuna.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.prune.PruningMethod;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A resumable comparison interrupted in process (a listener throws, as a kill would stop it) and resumed gives the
 * same models and the same report.json, apart from the measured times and the machine section.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompareResumeTest {
    Path text;
    Model dense;
    CharCorpus corpus;
    CompareSettings settings;
    Path referenceDir;

    @BeforeAll
    void uninterrupted(@TempDir Path shared) throws Exception {
        text = Tiny.text(shared, 300);
        dense = Tiny.trainedGru(text);
        corpus = CharCorpus.load(text, dense.vocabulary());
        settings = CompareSettings.builder(0.7, Tiny.config(40).evalEvery(10).build())
                .methods(List.of(PruningMethod.GRADUAL, PruningMethod.HAN, PruningMethod.ONESHOT))
                .hanRounds(2).hanRoundSteps(20L).sensitivityLevels(List.of(0.5, 0.8)).widths(List.of(4, 16))
                .widthSteps(20L).build();
        referenceDir = shared.resolve("reference");
        CompareExperiment.run(dense, text, corpus, settings, referenceDir, RunListener.NONE,
                CompressedSizeHook.NOT_AVAILABLE, Checkpoints.NONE, true);
    }

    /** Stops the experiment the way a kill would: the experiment records failures, but not this. */
    static final class Interrupted extends RuntimeException {
        Interrupted() {
            super("interrupted by the test");
        }
    }

    /** A listener that stops the run labelled {@code label} at {@code step}, and remembers every run started. */
    private static RunListener stopping(String label, long step, List<String> started) {
        return new RunListener() {
            @Override
            public TrainingListener onRun(String run, int index, int count) {
                started.add(run);
                return new TrainingListener() {
                    private long first = -1;

                    @Override
                    public void onStep(long s, double trainBpc, double sparsity) {
                        if (first < 0) {
                            first = s;
                            started.add(run + " from " + s);
                        }
                        if (run.equals(label) && s == step) {
                            throw new Interrupted();
                        }
                    }
                };
            }
        };
    }

    @Test
    void interruptedInHansSecondRoundResumesToTheSameModelsAndReport() throws IOException {
        Path out = Files.createTempDirectory(referenceDir.getParent(), "resumed");
        assertThrows(Interrupted.class, () -> CompareExperiment.run(dense, text, corpus, settings, out,
                stopping("han round 2/2", 13, new ArrayList<>()), CompressedSizeHook.NOT_AVAILABLE,
                new Checkpoints(5, false), true));
        assertTrue(Files.exists(out.resolve("han.resume")));
        assertTrue(Files.exists(out.resolve("gradual.safetensors")));
        assertFalse(Files.exists(out.resolve("gradual.resume")), "a finished run's checkpoint is dropped");

        List<String> started = new ArrayList<>();
        CompareReport report = CompareExperiment.run(dense, text, corpus, settings, out,
                stopping("none", -1, started), CompressedSizeHook.NOT_AVAILABLE, new Checkpoints(5, true), true);
        assertTrue(report.complete());
        // gradual is taken from the record, han continues after its checkpoint at round 2's step 10.
        assertEquals(List.of("han round 2/2", "han round 2/2 from 10"), started.subList(0, 2));

        for (String run : List.of("gradual", "han", "oneshot", "dense-gru-4", "dense-gru-16", "gradual-gru-16")) {
            String name = run + ".safetensors";
            assertArrayEquals(Files.readAllBytes(referenceDir.resolve(name)), Files.readAllBytes(out.resolve(name)),
                    name);
        }
        assertEquals(withoutTimes(referenceDir), withoutTimes(out));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of(), files.filter(f -> f.toString().endsWith(".resume")).toList(),
                    "checkpoints are deleted once every run has finished");
        }
    }

    @Test
    void interruptedInTheWidthSweepResumesItsPruningRunFromTheSavedDenseModel() throws IOException {
        Path out = Files.createTempDirectory(referenceDir.getParent(), "width");
        assertThrows(Interrupted.class, () -> CompareExperiment.run(dense, text, corpus, settings, out,
                stopping("gradual", 33, new ArrayList<>()), CompressedSizeHook.NOT_AVAILABLE,
                new Checkpoints(5, false), false));
        // The first "gradual" is the method run; stop again in the sweep's pruning run, after its dense models.
        List<String> started = new ArrayList<>();
        assertThrows(Interrupted.class, () -> CompareExperiment.run(dense, text, corpus, settings, out,
                stopping("gradual", 27, started), CompressedSizeHook.NOT_AVAILABLE, new Checkpoints(5, true),
                false));
        assertTrue(started.contains("gradual from 30"), started::toString);
        assertTrue(started.contains("dense gru-16"), started::toString);
        assertTrue(Files.exists(out.resolve("dense-gru-16-start.safetensors")), "the sweep's pruning run needs it");

        List<String> resumed = new ArrayList<>();
        CompareExperiment.run(dense, text, corpus, settings, out, stopping("none", -1, resumed),
                CompressedSizeHook.NOT_AVAILABLE, new Checkpoints(5, true), false);
        assertEquals(List.of("gradual", "gradual from 25"), resumed);
        assertEquals(withoutTimes(referenceDir), withoutTimes(out));
        assertFalse(Files.exists(out.resolve("dense-gru-16-start.safetensors")), "kept for resuming only");
        assertFalse(Files.exists(out.resolve("gradual.safetensors")), "models are kept only when asked");
    }

    @Test
    void interruptedWhileADenseModelOfTheSweepContinuesResumesToTheSameReport() throws IOException {
        Path out = Files.createTempDirectory(referenceDir.getParent(), "continued");
        assertThrows(Interrupted.class, () -> CompareExperiment.run(dense, text, corpus, settings, out,
                stopping("dense gru-16 continued", 12, new ArrayList<>()), CompressedSizeHook.NOT_AVAILABLE,
                new Checkpoints(5, false), false));
        assertTrue(Files.exists(out.resolve("dense-gru-16-start.safetensors")), "the sweep's pruning run needs it");

        // The resumed process takes the pruning run's starting point from the resumed dense run, not from the file.
        Files.delete(out.resolve("dense-gru-16-start.safetensors"));
        List<String> resumed = new ArrayList<>();
        CompareExperiment.run(dense, text, corpus, settings, out, stopping("none", -1, resumed),
                CompressedSizeHook.NOT_AVAILABLE, new Checkpoints(5, true), false);
        assertTrue(resumed.contains("dense gru-16 continued"), resumed::toString);
        assertFalse(resumed.contains("dense gru-16"), "the finished pre-training is not run again: " + resumed);
        assertEquals(withoutTimes(referenceDir), withoutTimes(out));
    }

    @Test
    void refusesToResumeAnotherComparison() throws IOException {
        Path out = Files.createTempDirectory(referenceDir.getParent(), "other");
        assertThrows(Interrupted.class, () -> CompareExperiment.run(dense, text, corpus, settings, out,
                stopping("han round 1/2", 3, new ArrayList<>()), CompressedSizeHook.NOT_AVAILABLE,
                new Checkpoints(5, false), false));
        CompareSettings otherTarget = CompareSettings.builder(0.6, settings.fineTune())
                .methods(settings.methods()).hanRounds(2).hanRoundSteps(20L).sensitivityLevels(List.of(0.5, 0.8))
                .widths(List.of(4, 16)).widthSteps(20L).build();
        InvalidOptionException e = assertThrows(InvalidOptionException.class, () -> CompareExperiment.run(dense,
                text, corpus, otherTarget, out, RunListener.NONE, CompressedSizeHook.NOT_AVAILABLE,
                new Checkpoints(5, true), false));
        assertEquals("--resume", e.option());
        assertTrue(e.getMessage().contains(CompareProgress.FILE), e.getMessage());
    }

    /** report.json without what is measured rather than computed: the machine and the training times. */
    static JsonNode withoutTimes(Path dir) throws IOException {
        JsonNode json = new ObjectMapper().readTree(dir.resolve(ReportFiles.JSON).toFile());
        ((ObjectNode) json).remove("machine");
        for (String section : List.of("methods", "width_runs")) {
            for (JsonNode run : json.path(section)) {
                ((ObjectNode) run).remove(List.of("train_seconds", "train_seconds_relative"));
            }
        }
        return json;
    }
}
