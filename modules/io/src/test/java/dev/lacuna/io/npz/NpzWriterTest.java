package dev.lacuna.io.npz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TimeZone;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link NpzWriter} writes: numpy's layout, read back exactly, the same bytes every time. */
class NpzWriterTest {
    @TempDir
    Path dir;

    private static NpzWriter sample() {
        return new NpzWriter()
                .addF32("rnn.weight_ih_l0", new int[] {2, 3}, new float[] {1, -2, 3.5f, Float.NaN, -0f, 6})
                .addF32("scalar", new int[0], new float[] {42f})
                .addBool("rnn.weight_ih_l0_mask", new int[] {2, 3}, new boolean[] {true, false, true, true, false,
                        true})
                .addString("__lacuna__", "{\"note\":\"Zürich 😀\"}");
    }

    @Test
    void writesStoredNpyEntriesThatReadBack() throws IOException {
        Path file = dir.resolve("m.npz");
        sample().write(file);
        try (ZipFile zip = new ZipFile(file.toFile())) {
            List<String> names = zip.stream().map(ZipEntry::getName).toList();
            assertEquals(List.of("rnn.weight_ih_l0.npy", "scalar.npy", "rnn.weight_ih_l0_mask.npy", "__lacuna__.npy"),
                    names);
            for (ZipEntry e : zip.stream().toList()) {
                assertEquals(ZipEntry.STORED, e.getMethod(), e.getName());
                byte[] npy = zip.getInputStream(e).readAllBytes();
                int headerLength = (npy[8] & 0xFF) | (npy[9] & 0xFF) << 8;
                assertEquals(0, (10 + headerLength) % 64, "numpy aligns the data to 64 bytes: " + e.getName());
                assertEquals('\n', npy[10 + headerLength - 1]);
            }
            byte[] first = zip.getInputStream(zip.getEntry("rnn.weight_ih_l0.npy")).readAllBytes();
            String header = new String(first, 10, 60, StandardCharsets.ISO_8859_1);
            assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header);
        }
        NpzFile npz = NpzFile.read(file);
        assertArrayEquals(new int[] {Float.floatToRawIntBits(1), Float.floatToRawIntBits(-2),
                Float.floatToRawIntBits(3.5f), Float.floatToRawIntBits(Float.NaN), Float.floatToRawIntBits(-0f),
                Float.floatToRawIntBits(6)}, bits(npz.floats("rnn.weight_ih_l0")));
        assertArrayEquals(new int[0], npz.arrays().get("scalar").shape());
        assertArrayEquals(new float[] {42f}, npz.floats("scalar"));
        assertEquals("|b1", npz.arrays().get("rnn.weight_ih_l0_mask").descr());
        assertArrayEquals(new float[] {1, 0, 1, 1, 0, 1}, npz.arrays().get("rnn.weight_ih_l0_mask").numericValues());
        assertEquals("<U19", npz.arrays().get("__lacuna__").descr());
        assertEquals("{\"note\":\"Zürich 😀\"}", npz.arrays().get("__lacuna__").string());
    }

    @Test
    void sameArraysGiveTheSameBytesInAnyTimeZone() throws IOException {
        TimeZone original = TimeZone.getDefault();
        try {
            TimeZone.setDefault(TimeZone.getTimeZone("Pacific/Kiritimati"));
            ByteArrayOutputStream a = new ByteArrayOutputStream();
            sample().writeTo(a);
            TimeZone.setDefault(TimeZone.getTimeZone("America/Adak"));
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            sample().writeTo(b);
            assertArrayEquals(a.toByteArray(), b.toByteArray());
        } finally {
            TimeZone.setDefault(original);
        }
    }

    @Test
    void refusesInconsistentInput() {
        NpzWriter w = new NpzWriter().addF32("a", new int[] {1}, new float[] {1});
        assertThrows(IllegalArgumentException.class, () -> w.addF32("a", new int[] {1}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> w.addF32("b", new int[] {2}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> w.addF32("../b", new int[] {1}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> w.addString("s", "nul\0inside"));
    }

    @Test
    void failedWriteLeavesNoFile() throws IOException {
        Path target = dir.resolve("sub").resolve("m.npz");
        Files.createDirectories(target.getParent());
        Files.writeString(target, "previous");
        new NpzWriter().addF32("x", new int[] {1}, new float[] {1}).write(target);
        assertEquals(1, NpzFile.read(target).arrays().size());
        try (var files = Files.list(target.getParent())) {
            assertEquals(List.of(target), files.toList(), "no temporary file left behind");
        }
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}
