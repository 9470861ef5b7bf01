package dev.lacuna.io;

import java.io.IOException;
import java.io.OutputStream;

/** Writes the content of a file to a stream; used with {@link AtomicFiles#write(java.nio.file.Path, IoWriter)}. */
@FunctionalInterface
public interface IoWriter {
    /**
     * Writes the whole content. The stream is buffered; closing it is allowed but not needed.
     *
     * @throws IOException on a write failure, which aborts the write and leaves the target untouched
     */
    void writeTo(OutputStream out) throws IOException;
}
