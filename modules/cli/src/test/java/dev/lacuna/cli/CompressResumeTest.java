package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.train.CentroidCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code compress --fine-tune-steps S --checkpoint-every N [--resume]} (issue #8 item 4): centroid fine-tuning killed
 * midway in a child JVM and resumed writes the same {@code .lacuna} bytes as a run that was never interrupted.
 */
class CompressResumeTest {
    private static final int STEPS = 120;

    @TempDir
    Path dir;

    private List<String> compress(Path model, Path text, Path out, long seed) {
        return new ArrayList<>(List.of("compress", model.toString(), out.toString(), "--bits", "3", "--huffman",
                "--fine-tune-steps", Integer.toString(STEPS), "--fine-tune-lr", "1e-3", "--data", text.toString(),
                "--seed", Long.toString(seed)));
    }

    private Path model(Path text) throws IOException {
        Vocabulary vocabulary = Vocabulary.of(Files.readString(text));
        Model model = Model.initialize(Architecture.of(CellType.LSTM, vocabulary.size(), 4, 8, 1), vocabulary, 4);
        Path file = dir.resolve("small.safetensors");
        ModelCheckpoint.save(model, file);
        return file;
    }

    @Test
    void killedCentroidFineTuningResumesToTheSameBytes() throws Exception {
        Path text = TinyText.write(dir, 1000);
        Path model = model(text);
        // The reference runs in a JVM of its own, as a killed run's resume does: anything that differs between
        // processes (hash-salted iteration orders, say) would show as different bytes.
        Path reference = dir.resolve("reference.lacuna");
        Process uninterrupted = ChildCli.start(compress(model, text, reference, 1), dir.resolve("reference.log"));
        assertTrue(uninterrupted.waitFor(90, TimeUnit.SECONDS), "the reference run did not end");
        assertEquals(0, uninterrupted.exitValue(), () -> readLog(dir.resolve("reference.log")));

        Path out = dir.resolve("resumed.lacuna");
        Path checkpoint = CentroidCheckpoint.besideOutput(out);
        List<String> checkpointing = compress(model, text, out, 1);
        checkpointing.addAll(List.of("--checkpoint-every", "5"));
        ChildCli.killOnceExists(checkpointing, dir.resolve("child.log"), checkpoint);
        assertFalse(Files.exists(out), "the child finished before it was killed; the test needs a longer run");
        long completed = CentroidCheckpoint.read(checkpoint).completedSteps();
        assertTrue(completed > 0 && completed < STEPS, "checkpoint after step " + completed);

        List<String> otherSeed = compress(model, text, out, 2);
        otherSeed.addAll(List.of("--checkpoint-every", "5", "--resume"));
        CliRun refused = CliRun.of(otherSeed.toArray(String[]::new));
        assertEquals(2, refused.exitCode(), refused::toString);
        assertTrue(refused.err().contains("--resume") && refused.err().contains("different"), refused::toString);
        assertFalse(Files.exists(out));
        assertTrue(Files.exists(checkpoint), "a refused checkpoint is left alone");

        ChildCli.resumeToTheSameBytes(checkpointing, checkpoint, reference, out);
    }

    @Test
    void resumeOptionsNeedFineTuning() throws Exception {
        Path text = TinyText.write(dir, 200);
        Path model = model(text);
        Path out = dir.resolve("plain.lacuna");
        CliRun every = CliRun.of("compress", model.toString(), out.toString(), "--bits", "3", "--checkpoint-every",
                "5");
        assertEquals(2, every.exitCode(), every::toString);
        assertTrue(every.err().contains("--checkpoint-every") && every.err().contains("--fine-tune-steps"),
                every::toString);
        CliRun resume = CliRun.of("compress", model.toString(), out.toString(), "--resume");
        assertEquals(2, resume.exitCode(), resume::toString);
        assertTrue(resume.err().contains("--resume"), resume::toString);
        List<String> zero = compress(model, text, out, 1);
        zero.addAll(List.of("--checkpoint-every", "0"));
        CliRun run = CliRun.of(zero.toArray(String[]::new));
        assertEquals(2, run.exitCode(), run::toString);
        assertTrue(run.err().contains("--checkpoint-every"), run::toString);
        assertFalse(Files.exists(out));
    }

    private static String readLog(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
