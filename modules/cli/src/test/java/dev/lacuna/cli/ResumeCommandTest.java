package dev.lacuna.cli;

import dev.lacuna.core.Model;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.train.CharCorpus;
import dev.lacuna.train.TrainConfig;
import dev.lacuna.train.Trainer;
import dev.lacuna.train.TrainingCheckpoint;
import dev.lacuna.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --checkpoint-every} and {@code --resume} (issue #8 item 4): a run killed midway in a child JVM and resumed
 * writes the same bytes as a run that was never interrupted.
 */
class ResumeCommandTest {
    private static final int STEPS = 200;

    @TempDir
    static Path shared;
    static Path text;
    static Path trained;

    @TempDir
    Path dir;

    @BeforeAll
    static void trainInput() throws IOException {
        text = TinyText.write(shared, 600);
        trained = shared.resolve("trained.safetensors");
        CliRun run = CliRun.of(train(trained, 30).toArray(String[]::new));
        assertEquals(0, run.exitCode(), run::toString);
    }

    /** A tiny LSTM run: small enough to be quick, long enough that a kill after the first checkpoint lands midway. */
    private static List<String> train(Path out, int steps) {
        return new ArrayList<>(List.of("train", "--data", text.toString(), "--cell", "lstm", "--layers", "1",
                "--hidden", "16", "--embed", "8", "--batch", "16", "--seq", "40", "--steps", Integer.toString(steps),
                "--seed", "5", "--threads", "1", "--out", out.toString()));
    }

    private static List<String> pruneGradual(Path out) {
        return new ArrayList<>(List.of("prune", "--model", trained.toString(), "--data", text.toString(),
                "--method", "gradual", "--target-sparsity", "0.6", "--freq", "10", "--steps", Integer.toString(STEPS),
                "--batch", "16", "--seq", "40", "--seed", "3", "--threads", "1", "--out", out.toString()));
    }

    @Test
    void killedTrainingResumesToTheSameBytes() throws Exception {
        assertKilledRunResumesToTheSameBytes(out -> train(out, STEPS));
    }

    @Test
    void killedGradualPruningResumesToTheSameBytes() throws Exception {
        assertKilledRunResumesToTheSameBytes(ResumeCommandTest::pruneGradual);
    }

    /** Han's two rounds of 100 steps share one checkpoint file; the kill lands in the first round. */
    @Test
    void killedHanPruningResumesToTheSameBytes() throws Exception {
        assertKilledRunResumesToTheSameBytes(out -> new ArrayList<>(List.of("prune", "--model", trained.toString(),
                "--data", text.toString(), "--method", "han", "--target-sparsity", "0.6", "--han-rounds", "2",
                "--steps", Integer.toString(STEPS / 2), "--batch", "16", "--seq", "40", "--seed", "3", "--threads",
                "1", "--out", out.toString())));
    }

    private interface Command {
        List<String> args(Path out);
    }

    private void assertKilledRunResumesToTheSameBytes(Command command) throws Exception {
        Path reference = dir.resolve("reference.safetensors");
        CliRun uninterrupted = CliRun.of(command.args(reference).toArray(String[]::new));
        assertEquals(0, uninterrupted.exitCode(), uninterrupted::toString);

        Path out = dir.resolve("resumed.safetensors");
        Path checkpoint = TrainingCheckpoint.besideOutput(out);
        List<String> checkpointing = command.args(out);
        checkpointing.addAll(List.of("--checkpoint-every", "10"));
        ChildCli.killOnceExists(checkpointing, dir.resolve("child.log"), checkpoint);
        assertFalse(Files.exists(out), "the child finished before it was killed; the test needs a longer run");
        long completed = TrainingCheckpoint.read(checkpoint).completedSteps();
        assertTrue(completed > 0 && completed < STEPS, "checkpoint after step " + completed);

        ChildCli.resumeToTheSameBytes(checkpointing, checkpoint, reference, out);
    }


    @Test
    void resumeWithoutACheckpointStartsFreshAndSaysSo() throws IOException {
        Path reference = dir.resolve("reference.safetensors");
        assertEquals(0, CliRun.of(train(reference, 20).toArray(String[]::new)).exitCode());
        Path out = dir.resolve("fresh.safetensors");
        List<String> args = train(out, 20);
        args.add("--resume");
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(run.err().contains("no checkpoint " + TrainingCheckpoint.besideOutput(out)), run::toString);
        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(out));
    }

    @Test
    void refusesToResumeAnotherRunsCheckpoint() {
        Path out = dir.resolve("other.safetensors");
        Path checkpoint = TrainingCheckpoint.besideOutput(out);
        writeCheckpointOfRunWithSeed(99, checkpoint);

        List<String> args = train(out, STEPS);
        args.add("--resume");
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(2, run.exitCode(), run::toString);
        assertTrue(run.err().contains("--resume") && run.err().contains("different run"), run::toString);
        assertFalse(Files.exists(out));
        assertTrue(Files.exists(checkpoint), "a refused checkpoint is left alone");
    }

    /** The checkpoint an interrupted {@code train} with another seed would leave, made through the API. */
    private static void writeCheckpointOfRunWithSeed(long seed, Path checkpoint) {
        Model input = ModelCheckpoint.load(trained);
        CharCorpus corpus = CharCorpus.load(text, input.vocabulary());
        TrainConfig config = TrainConfig.builder().batch(16).seq(40).steps(STEPS).seed(seed).build();
        TrainingListener stopAfterCheckpoint = new TrainingListener() {
            @Override
            public void onStep(long step, double trainBpc, double sparsity) {
                if (step == 12) {
                    throw new IllegalStateException("stop");
                }
            }
        };
        assertThrows(IllegalStateException.class, new Trainer(input, corpus, config, null, stopAfterCheckpoint)
                .checkpointEvery(10, checkpoint)::run);
        assertTrue(Files.exists(checkpoint));
    }

    @Test
    void rejectsResumeOptionsWhereTheyCannotApply() {
        Path out = dir.resolve("x.safetensors");
        CliRun oneShot = CliRun.of("prune", "--model", trained.toString(), "--data", text.toString(), "--method",
                "oneshot", "--target-sparsity", "0.5", "--resume", "--out", out.toString());
        assertEquals(2, oneShot.exitCode(), oneShot::toString);
        assertTrue(oneShot.err().contains("--resume"), oneShot::toString);

        List<String> zero = train(out, 5);
        zero.addAll(List.of("--checkpoint-every", "0"));
        CliRun run = CliRun.of(zero.toArray(String[]::new));
        assertEquals(2, run.exitCode(), run::toString);
        assertTrue(run.err().contains("--checkpoint-every"), run::toString);
        assertFalse(Files.exists(out));
    }
}
