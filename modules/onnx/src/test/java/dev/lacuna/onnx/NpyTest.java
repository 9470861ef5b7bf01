package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lacuna.core.BadFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsFloatsAndLongs() {
        Path f = dir.resolve("f.npy");
        NdArray floats = NdArray.ofFloats(new long[] {2, 3}, new float[] {1, -2, 3.5f, Float.NaN, 0, -0f});
        Npy.write(f, floats);
        NdArray back = Npy.read(f);
        assertArrayEquals(floats.shape(), back.shape());
        assertArrayEquals(floats.floats(), back.floats());
        Path l = dir.resolve("l.npy");
        Npy.write(l, NdArray.ofLongs(new long[] {4}, new long[] {0, 1, Long.MAX_VALUE, -5}));
        assertArrayEquals(new long[] {0, 1, Long.MAX_VALUE, -5}, Npy.read(l).longs());
        Path scalar = dir.resolve("s.npy");
        Npy.write(scalar, NdArray.ofFloats(new long[] {}, new float[] {7}));
        assertEquals(0, Npy.read(scalar).shape().length);
    }

    @Test
    void headerIsPaddedToSixtyFourBytesAsNumpyWrites() throws IOException {
        Path f = dir.resolve("f.npy");
        Npy.write(f, NdArray.ofFloats(new long[] {3}, new float[3]));
        byte[] bytes = Files.readAllBytes(f);
        int headerLength = (bytes[8] & 0xFF) | (bytes[9] & 0xFF) << 8;
        assertEquals(0, (10 + headerLength) % 64);
        String header = new String(bytes, 10, headerLength, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), header);
        assertTrue(header.endsWith("\n"));
    }

    @Test
    void readsInt32AndDoubleAndBigEndian() throws IOException {
        assertArrayEquals(new long[] {1, -2}, Npy.read(raw("<i4", "(2,)", ByteOrder.LITTLE_ENDIAN, b -> {
            b.putInt(1).putInt(-2);
        })).longs());
        assertArrayEquals(new float[] {0.5f}, Npy.read(raw(">f8", "(1,)", ByteOrder.BIG_ENDIAN, b -> {
            b.putDouble(0.5);
        })).floats());
    }

    @Test
    void readsFortranOrderInRowMajorOrder() throws IOException {
        Path fortran = dir.resolve("fortran.npy");
        ByteBuffer columns = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : new float[] {1, 4, 2, 5, 3, 6}) {
            columns.putFloat(v);
        }
        Files.write(fortran, bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", columns.array()));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Npy.read(fortran).floats());
    }

    @Test
    void readsSmallIntegerAndBooleanTypesAsInt64() throws IOException {
        assertArrayEquals(new long[] {255, 0}, Npy.read(raw("|u1", "(2,)", ByteOrder.LITTLE_ENDIAN, b -> {
            b.put((byte) 0xFF).put((byte) 0);
        })).longs());
        assertArrayEquals(new long[] {1, 0}, Npy.read(raw("|b1", "(2,)", ByteOrder.LITTLE_ENDIAN, b -> {
            b.put((byte) 1).put((byte) 0);
        })).longs());
        Path tooBig = raw("<u8", "(1,)", ByteOrder.LITTLE_ENDIAN, b -> b.putLong(-1));
        assertTrue(assertThrows(BadFileException.class, () -> Npy.read(tooBig)).getMessage()
                .contains("18446744073709551615"));
    }

    @Test
    void refusesLyingOrUnsupportedFiles() throws IOException {
        // the shape claims far more data than the file holds: refused before any allocation
        Path huge = raw("<f4", "(1000000, 1000000)", ByteOrder.LITTLE_ENDIAN, b -> b.putFloat(1));
        BadFileException e = assertThrows(BadFileException.class, () -> Npy.read(huge));
        assertTrue(e.getMessage().contains(huge.getFileName().toString()), e.getMessage());
        Path shortData = raw("<f4", "(3,)", ByteOrder.LITTLE_ENDIAN, b -> b.putFloat(1));
        assertTrue(assertThrows(BadFileException.class, () -> Npy.read(shortData)).getMessage().contains("needs"));
        Path complex = dir.resolve("complex.npy");
        Files.write(complex, bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new byte[8]));
        assertThrows(BadFileException.class, () -> Npy.read(complex));
        Path garbage = Files.write(dir.resolve("garbage.npy"), "hello world, not numpy".getBytes());
        assertTrue(assertThrows(BadFileException.class, () -> Npy.read(garbage)).getMessage().contains("magic"));
        Path overlong = dir.resolve("overlong.npy");
        byte[] header = bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[0]);
        header[8] = (byte) 0xFF;
        header[9] = (byte) 0x7F;
        Files.write(overlong, header);
        assertThrows(BadFileException.class, () -> Npy.read(overlong));
        assertThrows(BadFileException.class, () -> Npy.read(dir.resolve("missing.npy")));
    }

    private interface Filler {
        void fill(ByteBuffer b);
    }

    private Path raw(String descr, String shape, ByteOrder order, Filler data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(order);
        data.fill(b);
        byte[] payload = new byte[b.position()];
        b.flip().get(payload);
        Path file = dir.resolve(descr.replaceAll("\\W", "_") + shape.replaceAll("\\D", "_") + ".npy");
        Files.write(file, bytes("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }",
                payload));
        return file;
    }

    private static byte[] bytes(String dict, byte[] payload) {
        byte[] header = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(10 + header.length + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length);
        out.put(header).put(payload);
        return out.array();
    }
}
