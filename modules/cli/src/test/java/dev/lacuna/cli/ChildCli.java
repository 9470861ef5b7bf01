package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The CLI in a child JVM, for tests that must kill a run ({@code kill -9} skips every clean-up, which an exception
 * in-process cannot imitate) or compare with a run in a fresh JVM (per-JVM hash seeds and the like).
 */
final class ChildCli {
    private static final long WAIT_SECONDS = 90;

    private ChildCli() {
    }

    /** Starts {@code lacuna args} with this test's class path; stdout and stderr go to {@code log}. */
    static Process start(List<String> args, Path log) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // the same single-threaded element-wise ops as the surefire JVM (platform-notes.md)
        builder.environment().put("OMP_NUM_THREADS", "1");
        return builder.start();
    }

    /**
     * Runs {@code lacuna args} and kills it with {@code destroyForcibly()} (SIGKILL) as soon as {@code file}
     * exists; fails if the run ends first or the file does not appear within 90 s.
     */
    static void killOnceExists(List<String> args, Path log, Path file) throws Exception {
        Process child = start(args, log);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (!Files.exists(file)) {
                if (!child.isAlive()) {
                    fail("the child ended (exit " + child.exitValue() + ") before writing " + file.getFileName()
                            + ":\n" + Files.readString(log));
                }
                if (System.nanoTime() > deadline) {
                    fail("no " + file.getFileName() + " after " + WAIT_SECONDS + " s:\n" + Files.readString(log));
                }
                Thread.sleep(2);
            }
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the killed child did not end");
        }
    }

    /**
     * Reruns {@code checkpointing} with {@code --resume} in-process and checks that it continued from
     * {@code checkpoint}, wrote {@code out} byte for byte equal to the uninterrupted {@code reference}, and deleted
     * the checkpoint.
     */
    static void resumeToTheSameBytes(List<String> checkpointing, Path checkpoint, Path reference, Path out)
            throws IOException {
        List<String> resuming = new ArrayList<>(checkpointing);
        resuming.add("--resume");
        CliRun resumed = CliRun.of(resuming.toArray(String[]::new));
        assertEquals(0, resumed.exitCode(), resumed::toString);
        assertTrue(resumed.err().contains("resuming from " + checkpoint), resumed::toString);
        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(out), "resumed output differs");
        assertFalse(Files.exists(checkpoint), "the finished run's checkpoint should be deleted");
    }
}
