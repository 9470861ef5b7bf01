package dev.lacuna.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Writes to a file channel and, every {@link #STRIDE} bytes, has a helper thread force what is written so far, so
 * the disk works while the writer is still producing bytes. Linux otherwise starts writing dirty pages back only
 * after about 30 s ({@code vm.dirty_expire_centisecs}) or under memory pressure, which leaves all of a large file's
 * I/O to the final force. A 408 MB ONNX import + export went from 0.61 s to 0.54-0.57 s with it (docs/onnx.md,
 * "Memory and speed"). Small files never start a helper.
 */
final class WritebackStream extends OutputStream {
    static final long STRIDE = 32L << 20;

    private final FileChannel channel;
    private final long stride;
    private long written;
    private long nextForce;
    private int forcesStarted;
    private Thread helper;
    private volatile IOException failure;

    WritebackStream(FileChannel channel) {
        this(channel, STRIDE);
    }

    /** With a smaller {@code stride} for tests. */
    WritebackStream(FileChannel channel, long stride) {
        this.channel = channel;
        this.stride = stride;
        this.nextForce = stride;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
        written += len;
        if (written >= nextForce) {
            startForce();
            nextForce = written + stride;
        }
    }

    /** One force at a time: while one runs, the next stride's pages simply wait for the next one. */
    private void startForce() {
        if (helper != null && helper.isAlive()) {
            return;
        }
        helper = new Thread(() -> {
            try {
                channel.force(false);
            } catch (IOException e) {
                failure = e;
            }
        }, "lacuna-writeback");
        helper.setDaemon(true);
        helper.start();
        forcesStarted++;
    }

    int forcesStarted() {
        return forcesStarted;
    }

    /** Waits for a running force, so that no helper outlives the file (called before the channel is closed). */
    void awaitWriteback() throws IOException {
        if (helper != null) {
            try {
                helper.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the file to reach the disk", e);
            }
        }
    }

    /**
     * Rethrows what a background force failed with. Linux reports a write-back error to one {@code fsync} only, so
     * the final force may no longer see an error a helper's force already consumed.
     */
    void checkWriteback() throws IOException {
        if (failure != null) {
            throw failure;
        }
    }
}
