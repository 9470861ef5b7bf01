package dev.lacuna.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.lacuna.core.BadFileException;
import dev.lacuna.io.AtomicFiles;
import dev.lacuna.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reading and writing ONNX model files.
 *
 * <p>A model is parsed from a read-only memory map with protobuf aliasing enabled, so {@code raw_data} byte strings
 * point into the mapped file instead of being copied onto the heap: decoding a tensor then costs one float array,
 * not a second copy of the file. Parsing is bounded by the file's size and a nesting limit, so a crafted file cannot
 * make the parser recurse without end (subgraphs nest messages) or read past its bytes.
 */
public final class OnnxFiles {
    /**
     * Protobuf message nesting allowed. Each If/Loop/Scan level costs three messages (node, attribute, graph), so this
     * admits about 30 levels of subgraphs, far beyond any exporter's output.
     */
    static final int RECURSION_LIMIT = 100;

    private OnnxFiles() {
    }

    /**
     * Reads an ONNX model. External tensor data is not loaded here; it is read on demand, relative to the model's
     * folder.
     *
     * @throws BadFileException when the file is missing, empty, larger than protobuf's 2 GiB message limit, not a
     *                          protobuf message, or a message without a graph
     */
    public static Onnx.ModelProto read(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size == 0) {
                throw new BadFileException(file, "is empty, expected an ONNX model");
            }
            if (size > Integer.MAX_VALUE) {
                throw new BadFileException(file, "is " + size + " bytes; an ONNX model file holds at most 2 GiB "
                        + "(larger models keep their tensors in external data files)");
            }
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
            return parse(mapped, file);
        } catch (NoSuchFileException e) {
            throw new BadFileException(file, "no such file");
        } catch (IOException e) {
            throw new BadFileException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** Parses a model from bytes (aliased, not copied), with the size and nesting limits. */
    static Onnx.ModelProto parse(ByteBuffer bytes, Path file) {
        int size = bytes.remaining();
        // Through an immutable ByteString: protobuf aliases only buffers it knows cannot change, and copies
        // every bytes field of a plain CodedInputStream.newInstance(ByteBuffer).
        CodedInputStream in = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
        in.enableAliasing(true);
        in.setRecursionLimit(RECURSION_LIMIT);
        in.setSizeLimit(size);
        Onnx.ModelProto model;
        try {
            model = Onnx.ModelProto.parser().parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new BadFileException(file, "not an ONNX model (protobuf decoding failed: " + e.getMessage() + ")");
        } catch (RuntimeException e) {
            // protobuf reports some malformed inputs (e.g. lengths past the end of a mapped buffer) this way
            throw new BadFileException(file, "not an ONNX model (protobuf decoding failed: " + e + ")");
        }
        // ONNX files carry no magic number; a model without IR version or graph is what random bytes parse to.
        if (!model.hasIrVersion() || !model.hasGraph()) {
            throw new BadFileException(file, "not an ONNX model: " + (model.hasIrVersion() ? "no graph"
                    : "no ir_version field"));
        }
        return model;
    }

    /**
     * Writes a model atomically.
     *
     * @throws BadFileException naming {@code target} when it cannot be written
     */
    public static void write(Onnx.ModelProto model, Path target) {
        AtomicFiles.write(target, model::writeTo);
    }

    /**
     * The bytes of a tensor stored in an external file ({@code data_location = EXTERNAL}), as a read-only mapped
     * buffer. The location is resolved against the model's folder and must stay inside it (ONNX external data spec:
     * "relative to the directory of the model"); absolute paths, {@code ..} escapes and symbolic links leading
     * elsewhere are refused, so a downloaded model cannot make Lacuna read arbitrary files.
     *
     * @param modelFile     the model, named in errors
     * @param expectedBytes the byte count the tensor's shape and type require
     */
    static ByteBuffer externalData(Path modelFile, Onnx.TensorProto t, long expectedBytes) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (Onnx.StringStringEntryProto e : t.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = parseLong(modelFile, t, "offset", e.getValue());
                case "length" -> length = parseLong(modelFile, t, "length", e.getValue());
                default -> {
                    // "checksum" and future keys do not change where the bytes are
                }
            }
        }
        String what = OnnxTensors.describe(t);
        if (location == null || location.isEmpty()) {
            throw new BadFileException(modelFile, what + ": external data without a location");
        }
        if (length >= 0 && length != expectedBytes) {
            throw new BadFileException(modelFile, what + ": external data length " + length + " but its shape "
                    + t.getDimsList() + " of " + OnnxTensors.typeName(t.getDataType()) + " needs " + expectedBytes);
        }
        Path dataFile = resolveInside(modelFile, what, location);
        try (FileChannel channel = FileChannel.open(dataFile, StandardOpenOption.READ)) {
            long size = channel.size();
            if (offset > size || expectedBytes > size - offset) {
                throw new BadFileException(modelFile, what + ": external data needs bytes " + offset + " to "
                        + (offset + expectedBytes) + " of " + location + ", which has " + size);
            }
            return channel.map(FileChannel.MapMode.READ_ONLY, offset, expectedBytes);
        } catch (NoSuchFileException e) {
            throw new BadFileException(modelFile, what + ": external data file " + location + " does not exist");
        } catch (IOException e) {
            throw new BadFileException(modelFile, what + ": cannot read external data " + location + ": "
                    + e.getMessage(), e);
        }
    }

    private static Path resolveInside(Path modelFile, String what, String location) {
        Path folder = modelFile.toAbsolutePath().getParent();
        Path relative;
        try {
            relative = Path.of(location);
        } catch (RuntimeException e) {
            throw new BadFileException(modelFile, what + ": external data location '" + location
                    + "' is not a valid path");
        }
        Path resolved = folder.resolve(relative).normalize();
        if (relative.isAbsolute() || !resolved.startsWith(folder.normalize())) {
            throw new BadFileException(modelFile, what + ": external data location '" + location
                    + "' leaves the model's folder; only paths inside it are read");
        }
        try {
            if (Files.exists(resolved) && !resolved.toRealPath().startsWith(folder.toRealPath())) {
                throw new BadFileException(modelFile, what + ": external data location '" + location
                        + "' is a link out of the model's folder; only files inside it are read");
            }
        } catch (IOException e) {
            throw new BadFileException(modelFile, what + ": cannot resolve external data location '" + location
                    + "': " + e.getMessage(), e);
        }
        return resolved;
    }

    private static long parseLong(Path modelFile, Onnx.TensorProto t, String key, String value) {
        try {
            long v = Long.parseLong(value.trim());
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new BadFileException(modelFile, OnnxTensors.describe(t) + ": external data " + key
                + " must be a non-negative integer, found '" + value + "'");
    }
}
