package dev.lacuna.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.Model;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
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
 * <p>A child JVM ({@link RepeatedCheckpointWriter}) saves ever newer multi-MB checkpoint versions over the target
 * without pause; the test kills it after a random (seeded) delay, checks that the target is one complete version,
 * byte for byte, and no older than the last one the child reported written, and starts the next child from there.
 * {@code -Dlacuna.kills=N} changes the number of kills (default 100).
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
    /** Where the expected versions are written for comparison, away from the target's folder. */
    @TempDir
    Path scratch;

    @Test
    void killedWritesLeaveThePreviousOrTheNewFileNeverAPartialOne() throws Exception {
        int kills = Integer.getInteger("lacuna.kills", 100);
        Path target = dir.resolve("model.safetensors");
        double writeMillis = calibrate(target);
        // Starts from a known version; this write also removes the calibration child's temporary file.
        ModelCheckpoint.save(RepeatedCheckpointWriter.version(0), target);
        assertEquals(List.of(), strayFiles(target));

        SplittableRandom random = new SplittableRandom(SEED);
        long current = 0;
        int afterACompletedWrite = 0;
        int interruptedWrites = 0;
        int aheadOfTheReport = 0;
        Set<Long> pidsThatMayLeaveTemps = new HashSet<>();
        Set<Long> killedChildren = new HashSet<>();
        Set<Long> keptForAReusedPid = new HashSet<>();
        for (int kill = 0; kill < kills; kill++) {
            long before = current;
            Child child = Child.start(target, before + 1);
            Thread.sleep((long) (random.nextDouble() * DELAY_IN_WRITES * writeMillis));
            List<String> lines = child.kill();

            long lastWritten = current;
            boolean firstWrite = true;
            for (String line : lines) {
                if (line.startsWith("wrote ")) {
                    String[] fields = line.split(" ");
                    lastWritten = Long.parseLong(fields[1]);
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
            // The target must be a complete version, exactly as written, and never older than the last version the
            // child reported done. It may be newer than lastWritten + 1: a child's last lines on stdout can be lost
            // when it is killed (seen under heavy load), so the report is a lower bound, not the child's progress.
            String context = "kill " + kill + ": child output " + lines;
            long found = completeVersion(target, context);
            assertTrue(found >= lastWritten, context + ": the target is version " + found
                    + ", older than version " + lastWritten + " which the child had completed");
            // Versions only grow, so the target tells whether this child completed a write, whatever it reported.
            boolean completedAWrite = found > before;
            aheadOfTheReport += found > lastWritten + 1 ? 1 : 0;
            afterACompletedWrite += completedAWrite ? 1 : 0;
            current = found;

            // Temporary files: one at most per killed child. Those of children killed before the last completed
            // write are normally gone (that write deleted the temporary files of dead writers), but not when the kill
            // landed between the rename and that clean-up, or while the pid belongs to a process that started within
            // 2 s of the file's last write (start times are known to about a second, see AtomicFiles; pids are
            // reused within seconds here).
            if (completedAWrite) {
                pidsThatMayLeaveTemps.clear();
            }
            pidsThatMayLeaveTemps.add(child.pid());
            killedChildren.add(child.pid());
            List<Path> temps = strayFiles(target);
            Set<Long> owners = new HashSet<>();
            for (Path temp : temps) {
                long owner = tempOwner(temp, target);
                assertTrue(killedChildren.contains(owner) && owners.add(owner),
                        context + ": unexpected stray file " + temp.getFileName() + " among " + temps);
                if (!pidsThatMayLeaveTemps.contains(owner)) {
                    keptForAReusedPid.add(owner);
                }
            }
            interruptedWrites += owners.contains(child.pid()) ? 1 : 0;
        }
        // Every kill left a valid file, and the kills hit both sides of the rename.
        assertTrue(afterACompletedWrite > 0, "no child ever completed a write: raise DELAY_IN_WRITES");
        assertTrue(interruptedWrites > 0, "no kill landed during a write");

        // The next write removes the temporary files of killed writers, except while a pid is in use again; a pid
        // freed after the write looked gets its file removed by the write after that.
        List<Path> left = List.of();
        for (int write = 0; write < 2; write++) {
            ModelCheckpoint.save(RepeatedCheckpointWriter.version(0), target);
            left = strayFiles(target).stream().filter(t -> !pidReused(tempOwner(t, target), killedChildren)).toList();
            if (left.isEmpty()) {
                break;
            }
        }
        assertEquals(List.of(), left, "the next write removes the temporary files of killed writers");
        System.out.printf("KillDuringWriteTest: %d kills, 0 partial files; %d after a completed write, %d inside a"
                + " write (temporary file left), %d with the child's last report lines lost, %d temporary file(s)"
                + " outliving a completed write%n", kills, afterACompletedWrite, interruptedWrites,
                aheadOfTheReport, keptForAReusedPid.size());
    }

    /**
     * The version the target holds, after checking that it is that version byte for byte (so neither cut short
     * nor mixed from two writes).
     */
    private long completeVersion(Path target, String context) throws IOException {
        long version;
        try {
            version = Long.parseLong(ModelCheckpoint.load(target).metadata().get("version"));
        } catch (BadFileException e) {
            throw new AssertionError(context + ": the target is not a complete checkpoint: " + e.getMessage(), e);
        }
        Path expected = scratch.resolve("version-" + version + ".safetensors");
        ModelCheckpoint.save(RepeatedCheckpointWriter.version(version), expected);
        assertEquals(-1L, Files.mismatch(target, expected), context + ": the target claims version " + version
                + " but differs from it (a mixed file)");
        Files.delete(expected);
        return version;
    }

    /** Whether {@code pid} was one of the killed children and now belongs to another live process or thread. */
    private static boolean pidReused(long pid, Set<Long> killedChildren) {
        return killedChildren.contains(pid) && ProcessHandle.of(pid).isPresent();
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

        static Child start(Path target, long firstVersion) throws Exception {
            // Same class path as this test; a small heap and the C1 compiler only, since start-up dominates.
            Process process = new ProcessBuilder(javaExecutable(), "-Xmx256m", "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    RepeatedCheckpointWriter.class.getName(), target.toString(), Long.toString(firstVersion))
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
