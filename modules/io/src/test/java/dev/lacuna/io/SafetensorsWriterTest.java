package dev.lacuna.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    private static SafetensorsWriter sample() {
        return new SafetensorsWriter()
                .addF32("w", new int[] {2, 2}, new float[] {1f, -2f, 0.5f, Float.NaN})
                .addU8("w_mask", new int[] {2, 2}, new byte[] {1, 0, 1, 1})
                .addF32("b", new int[] {3}, new float[] {7f, 8f, 9f})
                .putMetadata("z", "last")
                .putMetadata("a", "first ✓");
    }

    private static byte[] bytes(SafetensorsWriter writer) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writer.writeTo(out);
        return out.toByteArray();
    }

    @Test
    void layoutFollowsTheSpec() throws IOException {
        byte[] file = bytes(sample());
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = in.getLong();
        assertEquals(0, headerLength % 8, "header padded to a multiple of 8");
        String header = new String(file, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertEquals("{\"__metadata__\":{\"a\":\"first ✓\",\"z\":\"last\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"w_mask\":{\"dtype\":\"U8\",\"shape\":[2,2],\"data_offsets\":[16,20]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[20,32]}}", header.stripTrailing());
        assertEquals(8 + headerLength + 32, file.length);
        in.position(8 + (int) headerLength);
        assertEquals(1f, in.getFloat());
        assertEquals(-2f, in.getFloat());
        in.position(8 + (int) headerLength + 16);
        assertEquals(1, in.get());
        assertEquals(0, in.get());
    }

    @Test
    void readerGetsBackWhatWasWritten() {
        Path f = dir.resolve("sub/dir/out.safetensors");
        sample().write(f);
        SafetensorsFile content = SafetensorsFile.read(f);
        assertEquals(Map.of("a", "first ✓", "z", "last"), content.metadata());
        assertEquals(List.of("w", "w_mask", "b"), List.copyOf(content.tensors().keySet()));
        assertArrayEquals(new float[] {1f, -2f, 0.5f, Float.NaN}, content.floats("w"));
        assertEquals(SafetensorsDType.U8, content.tensors().get("w_mask").dtype());
        assertArrayEquals(new int[] {3}, content.tensors().get("b").shape());
    }

    @Test
    void sameInputSameBytesWhateverTheMetadataOrder() throws IOException {
        SafetensorsWriter reordered = new SafetensorsWriter()
                .addF32("w", new int[] {2, 2}, new float[] {1f, -2f, 0.5f, Float.NaN})
                .addU8("w_mask", new int[] {2, 2}, new byte[] {1, 0, 1, 1})
                .addF32("b", new int[] {3}, new float[] {7f, 8f, 9f})
                .putMetadata("a", "first ✓")
                .putMetadata("z", "last");
        assertArrayEquals(bytes(sample()), bytes(reordered));
    }

    @Test
    void largeTensorsCrossTheEncodingChunks() {
        float[] values = new float[40_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.25f;
        }
        Path f = dir.resolve("big.safetensors");
        new SafetensorsWriter().addF32("big", new int[] {200, 200}, values).write(f);
        assertArrayEquals(values, SafetensorsFile.read(f).floats("big"));
    }

    @Test
    void rejectsProgrammingMistakes() {
        SafetensorsWriter w = new SafetensorsWriter().addU8("x", new int[] {1}, new byte[1]);
        assertThrows(IllegalArgumentException.class, () -> w.addU8("x", new int[] {1}, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> w.addF32("y", new int[] {2}, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> w.addF32("__metadata__", new int[] {0}, new float[0]));
        assertThrows(IllegalArgumentException.class, () -> w.putMetadata("k", null));
    }

    @Test
    void writesAtomicallyOverAnExistingFile() throws IOException {
        Path f = dir.resolve("out.safetensors");
        Files.writeString(f, "old");
        sample().write(f);
        assertEquals(3, SafetensorsFile.read(f).tensors().size());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList());
        }
    }
}
