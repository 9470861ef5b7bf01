package dev.lacuna.io.format;

import java.util.List;

/**
 * Size accounting of a whole {@code .lacuna} file.
 *
 * @param sizeBytes      the file's size: preamble, header, directory, padding and payloads
 * @param denseFp32Bytes 4 bytes per parameter, the size of the model as dense float32
 * @param precision      the writer's requested precision, as recorded in the header
 * @param tensors        per tensor, in file order
 */
public record LacunaFileReport(long sizeBytes, long denseFp32Bytes, String precision, List<TensorReport> tensors) {
    public LacunaFileReport {
        tensors = List.copyOf(tensors);
    }

    /** Dense float32 size over file size. */
    public double ratio() {
        return (double) denseFp32Bytes / sizeBytes;
    }
}
