package dev.lacuna.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<Path> folderContent() throws IOException {
        try (var files = Files.list(dir)) {
            return files.sorted().toList();
        }
    }

    @Test
    void writesTheBodyAndCreatesParents() throws IOException {
        Path target = dir.resolve("a/b/out.txt");
        AtomicFiles.write(target, out -> out.write("hello".getBytes(StandardCharsets.UTF_8)));
        assertEquals("hello", Files.readString(target));
        try (var files = Files.list(target.getParent())) {
            assertEquals(List.of(target), files.toList(), "no temporary file left");
        }
    }

    @Test
    void replacesAnExistingFile() throws IOException {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "old content that is longer");
        AtomicFiles.write(target, out -> out.write('n'));
        assertEquals("n", Files.readString(target));
    }

    @Test
    void bodyMayCloseTheStream() throws IOException {
        Path target = dir.resolve("out.txt");
        AtomicFiles.write(target, out -> {
            out.write("closed".getBytes(StandardCharsets.UTF_8));
            out.close();
        });
        assertEquals("closed", Files.readString(target));
    }

    @Test
    void ioFailureMidwayKeepsTheOldFileAndLeavesNoTemp() throws IOException {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "previous");
        BadFileException e = assertThrows(BadFileException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[200_000]); // more than the buffer: part of it already reached the temp file
            throw new IOException("disk full");
        }));
        assertEquals(target, e.file());
        assertTrue(e.getMessage().contains("disk full"), e.getMessage());
        assertEquals("previous", Files.readString(target));
        assertEquals(List.of(target), folderContent());
    }

    @Test
    void aFailureAfterBackgroundWritebackStartedStillCleansUpAndLeavesNoHelper() throws IOException {
        Path target = dir.resolve("out.bin");
        Files.writeString(target, "previous");
        byte[] chunk = new byte[1 << 20];
        assertThrows(BadFileException.class, () -> AtomicFiles.write(target, out -> {
            for (long written = 0; written <= 2 * WritebackStream.STRIDE; written += chunk.length) {
                out.write(chunk);
            }
            throw new IOException("disk full");
        }));
        assertEquals("previous", Files.readString(target));
        assertEquals(List.of(target), folderContent());
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("lacuna-writeback") && t.isAlive()), "a writeback helper outlived"
                + " its file");
    }

    @Test
    void runtimeFailureIsRethrownUnchangedAfterCleanUp() throws IOException {
        Path target = dir.resolve("out.txt");
        Files.writeString(target, "previous");
        IllegalStateException boom = new IllegalStateException("bug");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, out -> {
            out.write(1);
            throw boom;
        }));
        assertSame(boom, thrown);
        assertEquals("previous", Files.readString(target));
        assertEquals(List.of(target), folderContent());
    }

    @Test
    void aDirectoryTargetIsRefused() throws IOException {
        Path target = Files.createDirectory(dir.resolve("taken"));
        BadFileException e = assertThrows(BadFileException.class, () -> AtomicFiles.write(target, out -> out.write(1)));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
        assertTrue(Files.isDirectory(target));
    }

    @Test
    void aParentThatIsAFileIsReportedWithTheTarget() throws IOException {
        Path blocker = Files.writeString(dir.resolve("blocker"), "x");
        Path target = blocker.resolve("out.txt");
        BadFileException e = assertThrows(BadFileException.class, () -> AtomicFiles.write(target, out -> out.write(1)));
        assertEquals(target, e.file());
        assertEquals("x", Files.readString(blocker));
    }
}
