package dev.lacuna.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WritebackStreamTest {
    @TempDir
    Path dir;

    @Test
    void forcesOncePerStrideWhileWritingAndKeepsEveryByte() throws IOException {
        byte[] data = new byte[10_000];
        new Random(7).nextBytes(data);
        Path file = dir.resolve("out.bin");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            WritebackStream out = new WritebackStream(channel, 3_000);
            for (int off = 0; off < data.length; off += 700) {
                out.write(data, off, Math.min(700, data.length - off));
                // one force at a time: wait for each, so every stride crossed starts one
                out.awaitWriteback();
            }
            out.awaitWriteback();
            out.checkWriteback();
            // due at 3,000, reached at 3,500; then due at 6,500, reached at 7,000; then due at 10,000, the end
            assertEquals(3, out.forcesStarted());
        }
        assertArrayEquals(data, Files.readAllBytes(file));
    }

    @Test
    void smallOutputsStartNoHelper() throws IOException {
        try (FileChannel channel = FileChannel.open(dir.resolve("small.bin"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            WritebackStream out = new WritebackStream(channel);
            out.write(new byte[64 * 1024], 0, 64 * 1024);
            out.awaitWriteback();
            assertEquals(0, out.forcesStarted());
        }
    }

    @Test
    void aFailedBackgroundForceIsRethrown() throws IOException {
        IOException diskError = new IOException("Input/output error");
        WritebackStream out = new WritebackStream(new FailingForce(diskError), 10);
        out.write(new byte[20], 0, 20);
        out.awaitWriteback();
        assertEquals(1, out.forcesStarted());
        assertSame(diskError, assertThrows(IOException.class, out::checkWriteback));
    }

    /** Accepts every write; {@code force} fails as a disk error would. Nothing else is called. */
    private static final class FailingForce extends FileChannel {
        private final IOException error;

        FailingForce(IOException error) {
            this.error = error;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            throw error;
        }

        @Override
        public int read(ByteBuffer dst) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long position() {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileChannel position(long newPosition) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long size() {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileChannel truncate(long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(ByteBuffer dst, long position) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int write(ByteBuffer src, long position) {
            throw new UnsupportedOperationException();
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) {
            throw new UnsupportedOperationException();
        }

        @Override
        protected void implCloseChannel() {
        }
    }
}
