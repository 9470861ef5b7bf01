package dev.lacuna.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Collects F32 and U8 tensors and string metadata, then writes them as one safetensors file.
 *
 * <p>The output is a pure function of the input: tensors in the order they were added, metadata sorted by key, a
 * compact header padded with spaces to a multiple of 8 bytes (so the data buffer starts aligned, as the reference
 * writer does). The arrays passed in are read when the file is written, not copied.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> metadata = new TreeMap<>();

    /** Adds a float32 tensor. */
    public SafetensorsWriter addF32(String name, int[] shape, float[] values) {
        add(new Pending(name, SafetensorsDType.F32, shape.clone(), values, null));
        return this;
    }

    /** Adds an unsigned 8-bit tensor. */
    public SafetensorsWriter addU8(String name, int[] shape, byte[] values) {
        add(new Pending(name, SafetensorsDType.U8, shape.clone(), null, values));
        return this;
    }

    /** Adds (or replaces) one {@code __metadata__} entry. */
    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(requireNonNull(key, "metadata key"), requireNonNull(value, "metadata value of " + key));
        return this;
    }

    /** Adds (or replaces) several {@code __metadata__} entries. */
    public SafetensorsWriter putMetadata(Map<String, String> entries) {
        entries.forEach(this::putMetadata);
        return this;
    }

    /**
     * Writes the file atomically through {@link AtomicFiles}.
     *
     * @throws dev.lacuna.core.BadFileException naming {@code target} when it cannot be written
     */
    public void write(Path target) {
        AtomicFiles.write(target, this::writeTo);
    }

    /** Writes the file's bytes to a stream (not closed). */
    public void writeTo(OutputStream out) throws IOException {
        byte[] header = header();
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
        out.write(length.array());
        out.write(header);
        for (Pending t : tensors) {
            if (t.bytes != null) {
                out.write(t.bytes);
            } else {
                writeFloats(out, t.floats);
            }
        }
    }

    private void add(Pending t) {
        if (t.name == null || t.name.isEmpty() || t.name.equals(SafetensorsFile.METADATA_KEY)) {
            throw new IllegalArgumentException("invalid tensor name '" + t.name + "'");
        }
        long elements = 1;
        for (int d : t.shape) {
            if (d < 0) {
                throw new IllegalArgumentException(t.name + ": negative dimension in " + Arrays.toString(t.shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        int given = t.floats != null ? t.floats.length : t.bytes.length;
        if (elements != given) {
            throw new IllegalArgumentException(t.name + ": shape " + Arrays.toString(t.shape) + " holds " + elements
                    + " elements but " + given + " values were given");
        }
        if (!names.add(t.name)) {
            throw new IllegalArgumentException("tensor '" + t.name + "' added twice");
        }
        tensors.add(t);
    }

    private byte[] header() {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Pending t : tensors) {
            ObjectNode entry = root.putObject(t.name);
            entry.put("dtype", t.dtype.name());
            ArrayNode shape = entry.putArray("shape");
            for (int d : t.shape) {
                shape.add(d);
            }
            long end = offset + t.byteLength();
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void writeFloats(OutputStream out, float[] values) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        int perChunk = chunk.capacity() / Float.BYTES;
        for (int from = 0; from < values.length; from += perChunk) {
            int count = Math.min(perChunk, values.length - from);
            chunk.clear();
            // floatToRawIntBits keeps NaN payloads, so a round trip is bit-exact.
            for (int i = 0; i < count; i++) {
                chunk.putInt(Float.floatToRawIntBits(values[from + i]));
            }
            out.write(chunk.array(), 0, count * Float.BYTES);
        }
    }

    private static <T> T requireNonNull(T value, String what) {
        if (value == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        return value;
    }

    private record Pending(String name, SafetensorsDType dtype, int[] shape, float[] floats, byte[] bytes) {
        long byteLength() {
            return (long) (floats != null ? floats.length : bytes.length) * dtype.byteSize();
        }
    }
}
