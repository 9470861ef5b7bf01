package dev.lacuna.io.npz;

import static dev.lacuna.io.npz.NpyBytes.f4;
import static dev.lacuna.io.npz.NpyBytes.npy;
import static dev.lacuna.io.npz.NpyBytes.zip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import dev.lacuna.io.SafetensorsFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading npz archives: what numpy writes, and every kind of bad archive. */
class NpzFileTest {
    private static final Path ONNX_CASES = Path.of("..", "..", "testdata", "onnx");

    @TempDir
    Path dir;

    private Path archive(byte[] zipBytes) {
        return NpyBytes.write(dir.resolve("a.npz"), zipBytes);
    }

    private static BadFileException assertBad(Path file, String... fragments) {
        return assertBad(file, NpzFile.Limits.DEFAULT, fragments);
    }

    private static BadFileException assertBad(Path file, NpzFile.Limits limits, String... fragments) {
        BadFileException e = assertThrows(BadFileException.class, () -> NpzFile.read(file, limits));
        assertEquals(file, e.file());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
        return e;
    }

    @Test
    void readsWhatNumpyWroteWithTheSameValuesAsTheSafetensorsTwin() throws IOException {
        List<Path> cases;
        try (Stream<Path> files = Files.list(ONNX_CASES)) {
            cases = files.filter(p -> p.toString().endsWith(".npz")).sorted().toList();
        }
        assertFalse(cases.isEmpty(), "no npz files in " + ONNX_CASES.toAbsolutePath());
        for (Path npzPath : cases) {
            NpzFile npz = NpzFile.read(npzPath);
            String stem = npzPath.getFileName().toString().replace(".npz", "");
            SafetensorsFile twin = SafetensorsFile.read(npzPath.resolveSibling(stem + ".safetensors"));
            assertEquals(List.copyOf(twin.tensors().keySet()), List.copyOf(npz.arrays().keySet()), stem);
            for (String name : twin.tensors().keySet()) {
                NpyArray a = npz.arrays().get(name);
                assertEquals("<f4", a.descr(), name);
                assertArrayEquals(twin.tensors().get(name).shape(), a.shape(), name);
                assertArrayEquals(twin.floats(name), npz.floats(name), stem + " " + name);
            }
        }
    }

    @Test
    void convertsHalfDoubleAndBigEndianFloats() {
        ByteBuffer half = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        half.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x0001); // 1, -2, smallest subnormal
        ByteBuffer dbl = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-3.5);
        Path file = archive(zip(false,
                "h.npy", npy("<f2", false, "(3,)", half.array()),
                "d.npy", npy("<f8", false, "(2,)", dbl.array()),
                "b.npy", npy(">f4", false, "(2,)", f4(ByteOrder.BIG_ENDIAN, 1.5f, -0.25f)),
                "s.npy", npy("<f4", false, "()", f4(7f))));
        NpzFile npz = NpzFile.read(file);
        assertArrayEquals(new float[] {1f, -2f, 0x1p-24f}, npz.floats("h"));
        assertArrayEquals(new float[] {0.1f, -3.5f}, npz.floats("d"));
        assertArrayEquals(new float[] {1.5f, -0.25f}, npz.floats("b"));
        assertEquals(">f4", npz.arrays().get("b").descr());
        assertArrayEquals(new float[] {7f}, npz.floats("s"));
        assertArrayEquals(new int[0], npz.arrays().get("s").shape());
    }

    @Test
    void reordersFortranArraysToRowMajor() {
        // numpy.asfortranarray([[1, 2, 3], [4, 5, 6]]) stores the columns one after another
        byte[] twoByThree = npy("<f4", true, "(2, 3)", f4(1, 4, 2, 5, 3, 6));
        // a [2, 2, 2] array a[i][j][k] = 100i + 10j + k, stored with the first index varying fastest
        byte[] cube = npy("<f4", true, "(2, 2, 2)", f4(0, 100, 10, 110, 1, 101, 11, 111));
        NpzFile npz = NpzFile.read(archive(zip(true, "m.npy", twoByThree, "c.npy", cube)));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, npz.floats("m"));
        assertArrayEquals(new float[] {0, 1, 10, 11, 100, 101, 110, 111}, npz.floats("c"));
    }

    @Test
    void readsEveryNpyVersionAndPythonTwoLongs() {
        Path file = archive(zip(false,
                "v2.npy", npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f4(2f)),
                "v3.npy", npy(3, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2L,)}", f4(3f, 4f))));
        NpzFile npz = NpzFile.read(file);
        assertArrayEquals(new float[] {2f}, npz.floats("v2"));
        assertArrayEquals(new float[] {3f, 4f}, npz.floats("v3"));
    }

    @Test
    void integerAndBooleanArraysAreReadButRefusedAsWeights() {
        Path file = archive(zip(false,
                "i.npy", npy("<i8", false, "(2,)", ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(3).putLong(-1).array()),
                "m.npy", npy("|b1", false, "(3,)", new byte[] {1, 0, 1})));
        NpzFile npz = NpzFile.read(file);
        assertArrayEquals(new float[] {3f, -1f}, npz.arrays().get("i").numericValues());
        assertArrayEquals(new float[] {1f, 0f, 1f}, npz.arrays().get("m").numericValues());
        BadFileException e = assertThrows(BadFileException.class, () -> npz.floats("i"));
        assertTrue(e.getMessage().contains("array 'i'") && e.getMessage().contains("<i8"), e.getMessage());
        assertThrows(BadFileException.class, () -> npz.floats("absent"));
    }

    @Test
    void refusesFilesThatAreNotZipArchives() {
        assertBad(NpyBytes.write(dir.resolve("x.npz"), "hello, not a zip".getBytes(StandardCharsets.US_ASCII)),
                "not a valid zip archive");
        assertBad(dir.resolve("missing.npz"), "no such file");
        assertBad(dir, "is a directory");
        byte[] good = zip(false, "a.npy", npy("<f4", false, "(1,)", f4(1f)));
        assertBad(NpyBytes.write(dir.resolve("cut.npz"), java.util.Arrays.copyOf(good, good.length - 30)),
                "not a valid zip archive");
    }

    @Test
    void refusesPathTraversalAndOddEntryNames() {
        byte[] data = npy("<f4", false, "(1,)", f4(1f));
        assertBad(archive(zip(false, "../evil.npy", data)), "entry '../evil.npy'", "parent-relative");
        assertBad(archive(zip(false, "a/../../evil.npy", data)), "parent-relative");
        assertBad(archive(zip(false, "/etc/evil.npy", data)), "absolute");
        assertBad(archive(zip(false, "..\\evil.npy", data)), "parent-relative");
        assertBad(archive(zip(false, "C:/evil.npy", data)), "absolute");
        assertBad(archive(zip(false, "readme.txt", data)), "entry 'readme.txt'", ".npy");
        // ZipOutputStream refuses duplicate names, so rename the second entry in the finished bytes
        byte[] twice = zip(false, "a.npy", data, "b.npy", data);
        String text = new String(twice, StandardCharsets.ISO_8859_1).replace("b.npy", "a.npy");
        assertBad(archive(text.getBytes(StandardCharsets.ISO_8859_1)), "entry 'a.npy'", "twice");
    }

    @Test
    void stopsZipBombsWhileInflatingWithoutTrustingDeclaredSizes() {
        // 4 MiB of zeros deflate to about 4 KiB: a ratio near 1000:1
        byte[] zeros = npy("<f4", false, "(1048576,)", new byte[4 << 20]);
        Path bomb = archive(zip(true, "z.npy", zeros));
        assertBad(bomb, "entry 'z.npy'", "zip bomb");
        assertBad(bomb, new NpzFile.Limits(1 << 20, 1L << 30, 10_000), "more than 1048576 bytes, the limit per entry");
        Path two = archive(zip(false, "a.npy", npy("<f4", false, "(1000,)", new byte[4000]),
                "b.npy", npy("<f4", false, "(1000,)", new byte[4000])));
        assertBad(two, new NpzFile.Limits(1 << 20, 6000, 10), "entry 'b.npy'", "limit per archive");
        assertEquals(2, NpzFile.read(two, new NpzFile.Limits(1 << 20, 9000, 10)).arrays().size());
    }

    @Test
    void refusesBadNpyHeaders() {
        byte[] good = npy("<f4", false, "(1,)", f4(1f));
        byte[] magic = good.clone();
        magic[1] = 'X';
        assertBad(archive(zip(false, "a.npy", magic)), "entry 'a.npy'", "magic");
        byte[] version = good.clone();
        version[6] = 4;
        assertBad(archive(zip(false, "a.npy", version)), "version 4.0");
        assertBad(archive(zip(false, "a.npy", new byte[] {(byte) 0x93, 'N', 'U'})), "too short");
        byte[] longHeader = good.clone();
        longHeader[8] = (byte) 0xFF;
        longHeader[9] = (byte) 0x7F;
        assertBad(archive(zip(false, "a.npy", longHeader)), "header length 32767");
        assertBad(archive(zip(false, "a.npy", npy(1, "{'descr': '<f4', 'shape': (1,)}", f4(1f)))),
                "no 'fortran_order'");
        assertBad(archive(zip(false, "a.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,",
                f4(1f)))), "malformed header dict");
        assertBad(archive(zip(false, "a.npy", npy(1, "{'descr': [('x', '<f4')], 'fortran_order': False, "
                + "'shape': (1,)}", f4(1f)))), "structured");
        assertBad(archive(zip(false, "a.npy", npy("<c8", false, "(1,)", new byte[8]))), "'<c8' is not a supported");
        assertBad(archive(zip(false, "a.npy", npy("|f4", false, "(1,)", f4(1f)))), "'|f4'");
        assertBad(archive(zip(false, "a.npy", npy("<f4", false, "(-1,)", f4(1f)))), "dimension 0");
    }

    @Test
    void checksShapeAgainstTheBytesPresentBeforeAllocating() {
        assertBad(archive(zip(false, "a.npy", npy("<f4", false, "(2, 3)", f4(1, 2, 3)))),
                "entry 'a.npy'", "needs 24 bytes", "holds 12", "truncated");
        assertBad(archive(zip(false, "a.npy", npy("<f4", false, "(1,)", f4(1, 2)))), "trailing bytes");
        // 2^31 · 2^31 · 2^31 elements overflow a long: refused by the overflow check, nothing allocated
        assertBad(archive(zip(false, "a.npy", npy("<f4", false, "(2147483647, 2147483647, 2147483647)", f4(1)))),
                "more elements than any file");
        // a huge but representable shape with few bytes present: refused, not allocated
        assertBad(archive(zip(false, "a.npy", npy("<f8", false, "(100000, 100000)", f4(1)))),
                "needs 80000000000 bytes");
    }
}
