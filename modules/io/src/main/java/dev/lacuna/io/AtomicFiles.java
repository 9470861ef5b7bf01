package dev.lacuna.io;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.LacunaException;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The project's one way to write an output file: readers never see a half-written file, and a failed write leaves
 * the previous file in place.
 */
public final class AtomicFiles {
    private static final AtomicLong TEMP_COUNTER = new AtomicLong();
    /** Temporary files are named {@code .<target name>.<pid>-<counter>.tmp}, beside the target. */
    private static final String TEMP_SUFFIX = ".tmp";
    private static final Duration START_TIME_SLACK = Duration.ofSeconds(2);

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} atomically: the body writes a temporary file in the target's folder, which is flushed,
     * forced to disk and then moved over the target in one step. Missing parent folders are created. On any failure
     * the temporary file is deleted and the target is untouched. A process killed mid-write cannot clean up: its
     * temporary file stays until the next successful write of the same target deletes it.
     *
     * @throws BadFileException naming {@code target} when the file cannot be written (including an
     *                          {@link IOException} from the body); a {@link LacunaException} or other runtime
     *                          exception from the body is rethrown unchanged after the clean-up
     */
    public static void write(Path target, IoWriter body) {
        Path absolute = target.toAbsolutePath();
        Path folder = absolute.getParent();
        if (Files.isDirectory(absolute)) {
            throw new BadFileException(target, "is a directory, cannot write a file there");
        }
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new BadFileException(target, "cannot create folder " + folder + ": " + describe(e), e);
        }
        Path temp = null;
        try {
            temp = createTemp(folder, absolute.getFileName().toString());
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                WritebackStream file = new WritebackStream(channel);
                try {
                    OutputStream buffered = new BufferedOutputStream(file, 1 << 16);
                    body.writeTo(new KeepOpen(buffered));
                    buffered.flush();
                } finally {
                    file.awaitWriteback();
                }
                file.checkWriteback();
                // Force the data before the rename: otherwise a crash can leave the new name with empty content.
                channel.force(true);
            }
            Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            temp = null;
            forceFolder(folder);
            deleteStaleTemps(folder, absolute.getFileName().toString());
        } catch (IOException | UncheckedIOException e) {
            throw new BadFileException(target, "cannot write: " + describe(e), e);
        } finally {
            if (temp != null) {
                deleteQuietly(temp);
            }
        }
    }

    /**
     * Created with the default permissions ({@code Files.createTempFile} would make it owner-only, and the moved
     * file would keep that).
     */
    private static Path createTemp(Path folder, String targetName) throws IOException {
        while (true) {
            Path temp = folder.resolve("." + targetName + "." + ProcessHandle.current().pid() + "-"
                    + TEMP_COUNTER.incrementAndGet() + TEMP_SUFFIX);
            try {
                Files.newByteChannel(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return temp;
            } catch (FileAlreadyExistsException taken) {
                // left behind by a crashed process with the same pid: pick the next name
            }
        }
    }

    /**
     * Deletes the temporary files that writers of the same target left behind when they were killed (a crash or
     * {@code kill -9} skips every clean-up): those whose name carries the pid of a process that no longer exists,
     * or of one that started after the file was last written. The second case is pid reuse: Linux hands out pids
     * (and thread ids, which {@link ProcessHandle#of} also finds) from a space of 32,768 by default, so a busy
     * machine soon gives a dead writer's pid to someone else. A temporary file of a live writer, this process
     * included, is never touched: its writer started before it wrote the file.
     */
    private static void deleteStaleTemps(Path folder, String targetName) {
        String prefix = "." + targetName + ".";
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder,
                entry -> entry.getFileName().toString().startsWith(prefix)
                        && entry.getFileName().toString().endsWith(TEMP_SUFFIX))) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                String counter = name.substring(prefix.length(), name.length() - TEMP_SUFFIX.length());
                int dash = counter.indexOf('-');
                long pid = dash > 0 ? parsePid(counter.substring(0, dash)) : -1;
                if (pid > 0 && writerIsGone(pid, entry)) {
                    deleteQuietly(entry);
                }
            }
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: the write itself succeeded
        }
    }

    /**
     * Whether the process that named a temporary file after {@code pid} has died. Linux derives a process's start
     * time from the boot time in whole seconds, so a process counts as a newcomer only when it started more than
     * {@code START_TIME_SLACK} after the file's last write.
     */
    private static boolean writerIsGone(long pid, Path temp) {
        Optional<ProcessHandle> holder = ProcessHandle.of(pid);
        if (holder.isEmpty()) {
            return true;
        }
        Optional<Instant> started = holder.get().info().startInstant();
        try {
            Instant lastWritten = Files.getLastModifiedTime(temp).toInstant();
            return started.isPresent() && started.get().isAfter(lastWritten.plus(START_TIME_SLACK));
        } catch (IOException gone) {
            return false;
        }
    }

    private static long parsePid(String digits) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException notOurs) {
            return -1;
        }
    }

    /** Makes the rename itself durable where the platform allows syncing a folder (Linux does, Windows does not). */
    private static void forceFolder(Path folder) {
        try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: the file content is already durable and the rename atomic
        }
    }

    private static void deleteQuietly(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException ignored) {
            // nothing more we can do; the original failure is what the user needs to see
        }
    }

    private static String describe(Exception e) {
        Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        String message = cause.getMessage();
        return cause.getClass().getSimpleName() + (message == null ? "" : " " + message);
    }

    /** Lets the body close its stream without closing the channel that still has to be forced. */
    private static final class KeepOpen extends FilterOutputStream {
        KeepOpen(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
