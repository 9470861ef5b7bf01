package dev.lacuna.io;

import static dev.lacuna.io.RawSafetensors.f32;
import static dev.lacuna.io.RawSafetensors.shorts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.Float16;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    private Path file(String name, byte[] bytes) {
        return RawSafetensors.write(dir.resolve(name), bytes);
    }

    private Path file(RawSafetensors raw) {
        return raw.writeTo(dir.resolve("crafted.safetensors"));
    }

    /** The failure is a BadFileException that names the file and contains every fragment. */
    private static BadFileException assertBad(Path file, String... fragments) {
        BadFileException e = assertThrows(BadFileException.class, () -> SafetensorsFile.read(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
        return e;
    }

    private static byte[] lengthOnly(long declared, int totalSize) {
        return ByteBuffer.allocate(totalSize).order(ByteOrder.LITTLE_ENDIAN).putLong(declared).array();
    }

    // ---- valid files ----

    @Test
    void readsFloatTypesAndConvertsThem() {
        Path f = file(new RawSafetensors()
                .metadata("who", "me")
                .tensor("f32", "F32", new int[] {2}, f32(1.5f, -0f))
                // 1, -2, smallest subnormal 2^-24, +inf, a quiet NaN
                .tensor("f16", "F16", new int[] {5}, shorts(0x3C00, 0xC000, 0x0001, 0x7C00, 0x7E00))
                .tensor("bf16", "BF16", new int[] {2}, shorts(0x3F80, 0xC0A0))
                .tensor("f64", "F64", new int[] {1}, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                        .putDouble(0.1).array()));
        SafetensorsFile content = SafetensorsFile.read(f);
        assertEquals(Map.of("who", "me"), content.metadata());
        assertEquals(List.of("f32", "f16", "bf16", "f64"), List.copyOf(content.tensors().keySet()));
        assertArrayEquals(AbstractModelFormatRoundTripTest.bits(new float[] {1.5f, -0f}),
                AbstractModelFormatRoundTripTest.bits(content.floats("f32")));
        float[] half = content.floats("f16");
        assertArrayEquals(new float[] {1f, -2f, 0x1p-24f, Float.POSITIVE_INFINITY}, java.util.Arrays.copyOf(half, 4));
        assertTrue(Float.isNaN(half[4]));
        assertArrayEquals(new float[] {1f, -5f}, content.floats("bf16"));
        assertArrayEquals(new float[] {0.1f}, content.floats("f64"));
        assertArrayEquals(new int[] {5}, content.tensors().get("f16").shape());
    }

    @Test
    void everyNormalHalfConvertsLikeTheDecimalDefinition() {
        for (int e = 1; e < 31; e++) {
            for (int m = 0; m < 1024; m += 37) {
                float expected = (float) (Math.pow(2, e - 15) * (1 + m / 1024.0));
                assertEquals(expected, Float16.toFloat((short) ((e << 10) | m)));
                assertEquals(-expected, Float16.toFloat((short) (0x8000 | (e << 10) | m)));
            }
        }
        assertEquals(1023 * 0x1p-24f, Float16.toFloat((short) 0x03FF));
    }

    @Test
    void keepsIntegerAndBooleanTypesRaw() {
        byte[] i64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-3).putLong(1L << 40).array();
        Path f = file(new RawSafetensors()
                .tensor("ids", "I64", new int[] {2}, i64)
                .tensor("flags", "BOOL", new int[] {3}, new byte[] {1, 0, 1})
                .tensor("small", "I32", new int[] {1, 1}, new byte[] {7, 0, 0, 0})
                .tensor("bytes", "U8", new int[] {2}, new byte[] {(byte) 200, 3}));
        SafetensorsFile content = SafetensorsFile.read(f);
        SafetensorsTensor ids = content.tensors().get("ids");
        assertEquals(SafetensorsDType.I64, ids.dtype());
        assertEquals(2, ids.elementCount());
        assertEquals(1L << 40, ids.data().getLong(8));
        assertEquals(7, content.tensors().get("small").data().getInt(0));
        assertEquals((byte) 200, content.tensors().get("bytes").data().get(0));
        assertBadFloats(content, "ids", "expected a floating type", "found I64");
        assertBadFloats(content, "nothing", "no tensor named 'nothing'");
    }

    private static void assertBadFloats(SafetensorsFile content, String name, String... fragments) {
        BadFileException e = assertThrows(BadFileException.class, () -> content.floats(name));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), e.getMessage());
        }
    }

    @Test
    void acceptsSpacePaddingEmptyTensorsAndNoTensors() {
        byte[] header = "{\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},\"x\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}      "
                .getBytes(StandardCharsets.UTF_8);
        SafetensorsFile content = SafetensorsFile.read(file("padded", RawSafetensors.file(header, new byte[] {9})));
        assertEquals(0, content.tensors().get("e").elementCount());
        assertEquals(1, content.tensors().get("x").elementCount());
        SafetensorsFile empty = SafetensorsFile.read(file("empty", RawSafetensors.file("{}".getBytes(StandardCharsets.UTF_8), new byte[0])));
        assertTrue(empty.tensors().isEmpty());
        assertTrue(empty.metadata().isEmpty());
    }

    // ---- the file itself ----

    @Test
    void missingFileAndDirectory() {
        assertBad(dir.resolve("absent.safetensors"), "no such file");
        assertBad(dir, "is a directory");
    }

    @Test
    void fileShorterThanTheLengthField() {
        assertBad(file("empty", new byte[0]), "has 0 bytes", "at least the 8-byte header length");
        assertBad(file("five", new byte[5]), "has 5 bytes");
    }

    @Test
    void headerLengthBeyondTheFile() {
        assertBad(file("long", lengthOnly(1000, 40)), "declares 1000 bytes", "only 32 bytes follow");
        // 2^64 - 1 read as unsigned, not as -1
        assertBad(file("huge", lengthOnly(-1, 16)), "declares 18446744073709551615 bytes");
    }

    @Test
    void headerLengthAboveTheLimitFailsBeforeReadingIt() throws IOException {
        long declared = SafetensorsFile.MAX_HEADER_BYTES + 8;
        Path f = dir.resolve("bomb");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.write(lengthOnly(declared, 8));
            raf.setLength(8 + declared); // sparse: the bytes exist but take no disk space
        }
        assertBad(f, "declares " + declared + " bytes", "more than the limit");
    }

    // ---- the header ----

    @Test
    void headerThatIsNotUtf8() {
        byte[] header = {'{', '"', (byte) 0xFF, '"', ':', '1', '}', ' '};
        assertBad(file("latin", RawSafetensors.file(header, new byte[0])), "not valid UTF-8", "file offset 10");
    }

    @Test
    void headerThatIsNotAJsonObject() {
        assertBad(file("array", RawSafetensors.file("[1,2]".getBytes(StandardCharsets.UTF_8), new byte[0])),
                "must be a JSON object", "'[1,2]'");
        assertBad(file("broken", RawSafetensors.file("{\"a\":".getBytes(StandardCharsets.UTF_8), new byte[0])),
                "not valid JSON");
        assertBad(file("trailing", RawSafetensors.file("{} {}".getBytes(StandardCharsets.UTF_8), new byte[0])),
                "content after its JSON object");
        assertBad(file("nothing", RawSafetensors.file(new byte[0], new byte[0])), "found an empty header");
    }

    @Test
    void entriesWithMissingOrMistypedFields() {
        assertBad(file(new RawSafetensors().rawEntry("w", "[1]")), "tensor 'w'", "expected an object");
        assertBad(file(new RawSafetensors().rawEntry("w", "{\"shape\":[1],\"data_offsets\":[0,4]}")),
                "tensor 'w'", "missing field 'dtype'");
        assertBad(file(new RawSafetensors().rawEntry("w", "{\"dtype\":\"F32\",\"data_offsets\":[0,4]}")),
                "missing field 'shape'");
        assertBad(file(new RawSafetensors().rawEntry("w", "{\"dtype\":\"F32\",\"shape\":[1]}")),
                "missing field 'data_offsets'");
        assertBad(file(new RawSafetensors().rawEntry("w", "{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}")),
                "'dtype' must be a string");
        assertBad(file(new RawSafetensors().rawEntry("w", "{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}")),
                "'shape' must be an array");
        assertBad(file(new RawSafetensors().rawEntry("w", "{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}")),
                "dimension 0 must be a non-negative integer");
        assertBad(file(new RawSafetensors().rawEntry("w", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}")),
                "must be [begin, end]");
        assertBad(file(new RawSafetensors().rawEntry("w", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}")),
                "two non-negative 64-bit integers");
        assertBad(file(new RawSafetensors().rawEntry("w",
                "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999999]}")),
                "two non-negative 64-bit integers");
        assertBad(file(new RawSafetensors().rawEntry("w",
                "{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}")),
                "not valid JSON", "Duplicate field 'dtype'");
    }

    @Test
    void unknownDtype() {
        assertBad(file(new RawSafetensors().tensor("w", "C64", new int[] {1}, new byte[8])),
                "tensor 'w'", "unknown dtype 'C64'");
    }

    @Test
    void negativeOverflowingAndTooLargeShapes() {
        assertBad(file(new RawSafetensors().entry("w", "F32", new int[] {2, -1}, 0, 0)),
                "dimension 1 must be a non-negative integer, found -1");
        assertBad(file(new RawSafetensors().rawEntry("w",
                "{\"dtype\":\"F32\",\"shape\":[3000000000],\"data_offsets\":[0,4]}")),
                "dimension 0 is 3000000000");
        assertBad(file(new RawSafetensors().rawEntry("w",
                "{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}")),
                "holds more elements than any file can");
        assertBad(file(new RawSafetensors().rawEntry("w",
                "{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2],\"data_offsets\":[0,4]}")),
                "needs more bytes than any file can hold");
    }

    @Test
    void smallFileDeclaringATrillionElementsFailsWithoutAllocating() {
        RawSafetensors raw = new RawSafetensors()
                .entry("w", "F32", new int[] {1_000_000, 1_000_000}, 0, 4_000_000_000_000L)
                .data(new byte[900]);
        byte[] bytes = raw.bytes();
        assertTrue(bytes.length <= 1024);
        assertBad(file(raw), "tensor 'w'", "[0, 4000000000000] reach beyond the data buffer, which has 900 bytes");
        // the same with offsets that fit: the span, not the shape, is trusted
        assertBad(file(new RawSafetensors().entry("w", "F32", new int[] {1_000_000, 1_000_000}, 0, 900)
                .data(new byte[900])), "span 900 bytes", "needs 4000000000000");
    }

    @Test
    void offsetsOutOfTheBufferOrBackwards() {
        assertBad(file(new RawSafetensors().entry("w", "U8", new int[] {4}, 2, 6).data(new byte[4])),
                "reach beyond the data buffer, which has 4 bytes");
        assertBad(file(new RawSafetensors().entry("w", "U8", new int[] {0}, 3, 1).data(new byte[4])),
                "[3, 1] end before they begin");
        assertBad(file(new RawSafetensors().entry("w", "F32", new int[] {2}, 0, 4).data(new byte[4])),
                "span 4 bytes", "needs 8");
    }

    @Test
    void overlapsHolesAndUncoveredBytes() {
        assertBad(file(new RawSafetensors()
                        .entry("a", "U8", new int[] {4}, 0, 4)
                        .entry("b", "U8", new int[] {4}, 2, 6)
                        .data(new byte[6])),
                "tensor 'b'", "inside tensor 'a' which ends at 4", "overlap");
        assertBad(file(new RawSafetensors()
                        .entry("a", "U8", new int[] {2}, 0, 2)
                        .entry("b", "U8", new int[] {2}, 4, 6)
                        .data(new byte[6])),
                "tensor 'b'", "begin at 4, expected 2", "hole of 2");
        assertBad(file(new RawSafetensors().entry("a", "U8", new int[] {2}, 1, 3).data(new byte[3])),
                "tensor 'a'", "begin at 1, expected 0");
        assertBad(file(new RawSafetensors().tensor("a", "U8", new int[] {2}, new byte[2]).data(new byte[3])),
                "has 5 bytes but the tensors cover 2", "3 unused bytes");
    }

    @Test
    void duplicateTensorNames() {
        assertBad(file(new RawSafetensors()
                        .tensor("w", "U8", new int[] {1}, new byte[1])
                        .tensor("w", "U8", new int[] {1}, new byte[1])),
                "duplicate tensor name 'w'");
    }

    @Test
    void metadataMustBeAMapOfStrings() {
        assertBad(file(new RawSafetensors().rawEntry("__metadata__", "[]")), "__metadata__", "expected an object");
        assertBad(file(new RawSafetensors().rawEntry("__metadata__", "{\"n\":3}")), "entry 'n'", "expected a string");
    }
}
