package dev.lacuna.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Crafts safetensors bytes by hand for tests, independently of {@link SafetensorsWriter}, including files the
 * writer would never produce (other dtypes, broken headers).
 */
final class RawSafetensors {
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final StringBuilder entries = new StringBuilder();
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

    /** Adds a tensor whose offsets follow the previous one. */
    RawSafetensors tensor(String name, String dtype, int[] shape, byte[] data) {
        int begin = buffer.size();
        buffer.writeBytes(data);
        return entry(name, dtype, shape, begin, buffer.size());
    }

    /** Adds a header entry with arbitrary offsets and no data. */
    RawSafetensors entry(String name, String dtype, int[] shape, long begin, long end) {
        return rawEntry(name, "{\"dtype\":\"" + dtype + "\",\"shape\":" + Arrays.toString(shape)
                + ",\"data_offsets\":[" + begin + "," + end + "]}");
    }

    /** Adds a header entry with any JSON value. */
    RawSafetensors rawEntry(String name, String json) {
        if (entries.length() > 0) {
            entries.append(',');
        }
        entries.append('"').append(name).append("\":").append(json);
        return this;
    }

    RawSafetensors metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    RawSafetensors data(byte[] extra) {
        buffer.writeBytes(extra);
        return this;
    }

    String header() {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append("\"__metadata__\":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                json.append(first ? "" : ",").append(quote(e.getKey())).append(':').append(quote(e.getValue()));
                first = false;
            }
            json.append('}').append(entries.length() > 0 ? "," : "");
        }
        return json.append(entries).append('}').toString();
    }

    byte[] bytes() {
        return file(header().getBytes(StandardCharsets.UTF_8), buffer.toByteArray());
    }

    Path writeTo(Path file) {
        return RawSafetensors.write(file, bytes());
    }

    /** Length prefix + header + buffer, no padding. */
    static byte[] file(byte[] header, byte[] data) {
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).put(data).array();
    }

    static Path write(Path file, byte[] bytes) {
        try {
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] shorts(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putShort((short) v);
        }
        return b.array();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
