package dev.lacuna.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.lacuna.core.Model;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of {@link AtomicFiles} (issue #8, item 3): a writer killed with SIGKILL at any moment leaves the
 * target either as it was or as the complete new version, never a mix, and at most its own temporary file, which
 * the next successful write removes.
 *
 * <p>A child JVM ({@link RepeatedCheckpointWriter}) saves multi-MB checkpoints over the target without pause; the
 * test kills it after a random (seeded) delay, checks the target against the SHA-256 of every version, and starts
 * the next child. {@code -Dlacuna.kills=N} changes the number of kills (default 100).
 */
class KillDuringWriteTest {
    private static final long SEED = 20261129L;
    /**
     * Kill delays are drawn from [0, this many write durations) after the child reports it is writing, so kills
     * land before, during and after its first write. The duration is that of a child's first write (cold: class
     * loading and compilation included), measured as the test goes, not assumed: it varies tenfold with the load
     * of a shared machine.
     */
    private static final double DELAY_IN_WRITES = 2.5;

    @TempDir
    Path dir;

    @Test
    void killedWritesLeaveThePreviousOrTheNewFileNeverAPartialOne() throws Exception {
        int kills = Integer.getInteger("lacuna.kills", 100);
        Path target = dir.resolve("model.safetensors");
        List<String> hashes = versionHashes();
        double writeMillis = calibrate(target);
        // Starts from a known version; this write also removes the calibration child's temporary file.
        ModelCheckpoint.save(RepeatedCheckpointWriter.version(0), target);
        assertEquals(List.of(), strayFiles(target));

        SplittableRandom random = new SplittableRandom(SEED);
        int current = 0;
        int afterACompletedWrite = 0;
        int interruptedWrites = 0;
        Set<Long> pidsThatMayLeaveTemps = new HashSet<>();
        for (int kill = 0; kill < kills; kill++) {
            int next = (current + 1) % RepeatedCheckpointWriter.VERSIONS;
            Child child = Child.start(target, next);
            Thread.sleep((long) (random.nextDouble() * DELAY_IN_WRITES * writeMillis));
            List<String> lines = child.kill();

            // The target must be the last version the child completed, or the one it was writing when killed.
            int lastWritten = current;
            boolean firstWrite = true;
            for (String line : lines) {
                if (line.startsWith("wrote ")) {
                    String[] fields = line.split(" ");
                    lastWritten = Integer.parseInt(fields[1]);
                    if (firstWrite) {
                        writeMillis = 0.7 * writeMillis + 0.3 * Long.parseLong(fields[2]);
                        firstWrite = false;
                    }
                }
            }
            if (firstWrite) {
                // No write completed: if the machine got slower, the estimate must grow without a measurement.
                writeMillis *= 1.1;
            }
            int writing = (lastWritten + 1) % RepeatedCheckpointWriter.VERSIONS;
            int found = hashes.indexOf(sha256(target));
            String context = "kill " + kill + ": child output " + lines;
            assertTrue(found == lastWritten || found == writing, context + ": the target is "
                    + (found < 0 ? "none of the versions (a partial or mixed file)" : "version " + found)
                    + ", expected version " + lastWritten + " or " + writing);
            assertEquals(found + "", ModelCheckpoint.load(target).metadata().get("version"), context);
            afterACompletedWrite += firstWrite ? 0 : 1;
            current = found;

            // Temporary files: only those of children killed since the last completed write, one each at most.
            if (lines.stream().anyMatch(l -> l.startsWith("wrote "))) {
                pidsThatMayLeaveTemps.clear();
            }
            pidsThatMayLeaveTemps.add(child.pid());
            List<Path> temps = strayFiles(target);
            Set<Long> owners = new HashSet<>();
            for (Path temp : temps) {
                long owner = tempOwner(temp, target);
                assertTrue(pidsThatMayLeaveTemps.contains(owner) && owners.add(owner),
                        context + ": unexpected stray file " + temp.getFileName() + " among " + temps);
            }
            interruptedWrites += owners.contains(child.pid()) ? 1 : 0;
        }
        // Every kill left a valid file, and the kills hit both sides of the rename.
        assertTrue(afterACompletedWrite > 0, "no child ever completed a write: raise DELAY_IN_WRITES");
        assertTrue(interruptedWrites > 0, "no kill landed during a write");

        ModelCheckpoint.save(RepeatedCheckpointWriter.version(0), target);
        assertEquals(List.of(), strayFiles(target), "the next write removes the temporary files of killed writers");
        System.out.printf("KillDuringWriteTest: %d kills, 0 partial files; %d after a completed write, %d inside a"
                + " write (temporary file left)%n", kills, afterACompletedWrite, interruptedWrites);
    }

    /** Runs one child through its first write and returns how long that took, in ms. */
    private static double calibrate(Path target) throws Exception {
        Child child = Child.start(target, 1);
        return Long.parseLong(child.awaitWrites(1).get(0).split(" ")[2]);
    }

    @Test
    void theNextWriteDeletesTempFilesOfDeadWritersOnly() throws Exception {
        Path target = dir.resolve("out.safetensors");
        long deadPid = deadPid();
        long livePid = ProcessHandle.current().pid();
        Path dead = Files.writeString(dir.resolve(".out.safetensors." + deadPid + "-7.tmp"), "partial");
        Path live = Files.writeString(dir.resolve(".out.safetensors." + livePid + "-999999.tmp"), "in progress");
        Path otherTarget = Files.writeString(dir.resolve(".other.safetensors." + deadPid + "-1.tmp"), "partial");
        Path notOurs = Files.writeString(dir.resolve(".out.safetensors.backup.tmp"), "user file");
        // Pid reuse: a temp last written before the process now holding its pid started belongs to a dead writer.
        Instant thisJvmStarted = ProcessHandle.current().info().startInstant().orElseThrow();
        Path reusedPid = Files.writeString(dir.resolve(".out.safetensors." + livePid + "-999998.tmp"), "partial");
        Files.setLastModifiedTime(reusedPid, FileTime.from(thisJvmStarted.minus(Duration.ofHours(1))));
        long init = 1;
        Path reusedInitPid = Files.writeString(dir.resolve(".out.safetensors." + init + "-3.tmp"), "partial");
        Files.setLastModifiedTime(reusedInitPid, FileTime.fromMillis(0));
        Path liveInit = Files.writeString(dir.resolve(".out.safetensors." + init + "-4.tmp"), "in progress");

        AtomicFiles.write(target, out -> out.write(1));

        assertFalse(Files.exists(dead), "temp of a dead writer of this target");
        assertFalse(Files.exists(reusedPid), "temp written before this JVM, which now has its pid, started");
        assertFalse(Files.exists(reusedInitPid), "temp written before pid 1 started");
        assertTrue(Files.exists(liveInit), "temp written since pid 1 started");
        assertTrue(Files.exists(live), "temp of a live writer");
        assertTrue(Files.exists(otherTarget), "temp of another target");
        assertTrue(Files.exists(notOurs), "a file not named like our temps");
    }

    /** The pid of a process that has exited (pids are not reused that quickly). */
    private static long deadPid() throws Exception {
        Process p = new ProcessBuilder(javaExecutable(), "-version").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        p.waitFor();
        assertTrue(ProcessHandle.of(p.pid()).isEmpty());
        return p.pid();
    }

    private List<String> versionHashes() throws IOException {
        List<String> hashes = new ArrayList<>();
        for (int v = 0; v < RepeatedCheckpointWriter.VERSIONS; v++) {
            Path file = dir.resolve("version-" + v + ".safetensors");
            ModelCheckpoint.save(RepeatedCheckpointWriter.version(v), file);
            hashes.add(sha256(file));
            Files.delete(file);
        }
        assertEquals(RepeatedCheckpointWriter.VERSIONS, new HashSet<>(hashes).size(), "versions must differ");
        return hashes;
    }

    private List<Path> strayFiles(Path target) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> !f.equals(target)).sorted().toList();
        }
    }

    /** The pid in {@code .<target>.<pid>-<counter>.tmp}, the name AtomicFiles gives its temporary files. */
    private static long tempOwner(Path temp, Path target) {
        String name = temp.getFileName().toString();
        String prefix = "." + target.getFileName() + ".";
        if (!name.startsWith(prefix) || !name.endsWith(".tmp") || !name.contains("-")) {
            fail("not a temporary file of AtomicFiles: " + name);
        }
        return Long.parseLong(name.substring(prefix.length(), name.indexOf('-', prefix.length())));
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** One child JVM and the lines it printed. */
    private static final class Child {
        private final Process process;
        private final List<String> lines = new ArrayList<>();
        private final CountDownLatch ready = new CountDownLatch(1);
        private final Thread reader;

        private Child(Process process) {
            this.process = process;
            this.reader = new Thread(this::readLines, "child-stdout");
            reader.start();
        }

        static Child start(Path target, int firstVersion) throws Exception {
            // Same class path as this test; a small heap and the C1 compiler only, since start-up dominates.
            Process process = new ProcessBuilder(javaExecutable(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    RepeatedCheckpointWriter.class.getName(), target.toString(), Integer.toString(firstVersion))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Child child = new Child(process);
            if (!child.ready.await(60, TimeUnit.SECONDS)) {
                child.kill();
                fail("the child did not start within 60 s: " + child.lines);
            }
            return child;
        }

        long pid() {
            return process.pid();
        }

        /** Waits until the child has completed {@code count} writes, then kills it; returns those lines. */
        List<String> awaitWrites(int count) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                List<String> writes;
                synchronized (lines) {
                    writes = lines.stream().filter(l -> l.startsWith("wrote ")).toList();
                }
                if (writes.size() >= count) {
                    kill();
                    return writes.subList(0, count);
                }
                Thread.sleep(10);
            }
            kill();
            throw new AssertionError("the child did not complete " + count + " writes within 120 s: " + lines);
        }

        /** SIGKILL on Unix: no shutdown hook, no finally block, no clean-up runs in the child. */
        List<String> kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
            reader.join();
            synchronized (lines) {
                return List.copyOf(lines);
            }
        }

        private void readLines() {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    synchronized (lines) {
                        lines.add(line);
                    }
                    if (line.equals("ready")) {
                        ready.countDown();
                    }
                }
            } catch (IOException ignored) {
                // the pipe closes when the child dies
            }
        }
    }
}
