package dev.lacuna.cli;

import static dev.lacuna.cli.TestArchives.header;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's tarball reader on small archives the test writes byte by byte (ustar, pax, long names). */
class TarGzTest {
    @TempDir
    Path dir;

    private static final byte[] TEXT = "Call me Ishmael.\nSome years ago\u2014never mind how long.\n"
            .getBytes(StandardCharsets.UTF_8);

    private Path gzip(byte[] tar) throws IOException {
        return TestArchives.gzip(Files.createTempFile(dir, "test", ".tgz"), tar);
    }

    private static byte[] npmLikeArchive(boolean withEnd) throws IOException {
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        byte[] license = new byte[700];
        Arrays.fill(license, (byte) 'L');
        TestArchives.entry(tar, header("package/LICENSE", "", license.length, '0'), license);
        // A pax header renaming the next entry, as node-tar writes for long or non-ASCII paths.
        String record = "30 path=package/data/data.txt\n";
        TestArchives.entry(tar, header("PaxHeader/data", "", record.length(), 'x'),
                record.getBytes(StandardCharsets.UTF_8));
        TestArchives.entry(tar, header("package/data/placeholder", "", TEXT.length, '0'), TEXT);
        TestArchives.entry(tar, header("data.json", "package/data", 3, '0'), "{}\n".getBytes(StandardCharsets.UTF_8));
        if (withEnd) {
            tar.write(new byte[1024]);
        }
        return tar.toByteArray();
    }

    @Test
    void findsAnEntryNamedByAPaxHeader() throws IOException {
        Path tgz = gzip(npmLikeArchive(true));
        assertArrayEquals(TEXT, TarGz.readEntry(tgz, "package/data/data.txt", 1000));
    }

    @Test
    void joinsTheUstarPrefixAndName() throws IOException {
        Path tgz = gzip(npmLikeArchive(true));
        assertArrayEquals("{}\n".getBytes(StandardCharsets.UTF_8), TarGz.readEntry(tgz, "package/data/data.json", 10));
    }

    @Test
    void missingEntryNamesTheArchive() throws IOException {
        Path tgz = gzip(npmLikeArchive(true));
        BadFileException e = assertThrows(BadFileException.class, () -> TarGz.readEntry(tgz, "package/x.txt", 10));
        assertEquals(tgz, e.file());
        assertTrue(e.getMessage().contains("no entry package/x.txt"), e.getMessage());
    }

    @Test
    void entryLargerThanAllowedIsRefusedBeforeReading() throws IOException {
        Path tgz = gzip(npmLikeArchive(true));
        BadFileException e = assertThrows(BadFileException.class,
                () -> TarGz.readEntry(tgz, "package/data/data.txt", 10));
        assertTrue(e.getMessage().contains("more than the 10"), e.getMessage());
    }

    @Test
    void truncatedArchive() throws IOException {
        byte[] full = npmLikeArchive(false);
        Path tgz = gzip(Arrays.copyOf(full, 1024 + 100));
        BadFileException e = assertThrows(BadFileException.class, () -> TarGz.readEntry(tgz, "package/x", 10));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void corruptHeaderChecksum() throws IOException {
        byte[] tar = npmLikeArchive(true);
        tar[5] ^= 1; // a byte of the first entry's name
        Path tgz = gzip(tar);
        BadFileException e = assertThrows(BadFileException.class, () -> TarGz.readEntry(tgz, "package/x", 10));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void notGzip() throws IOException {
        Path plain = Files.write(dir.resolve("plain.tgz"), npmLikeArchive(true));
        BadFileException e = assertThrows(BadFileException.class, () -> TarGz.readEntry(plain, "package/x", 10));
        assertEquals(plain, e.file());
    }
}
