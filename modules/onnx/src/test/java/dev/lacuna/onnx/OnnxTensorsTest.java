package dev.lacuna.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.lacuna.core.BadFileException;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class OnnxTensorsTest {
    private static final Path FILE = Path.of("model.onnx");

    @Test
    void toProtoWritesLittleEndianRawDataThatReadsBack() {
        float[] values = {1.5f, -0f, Float.MIN_VALUE, -3.25e7f, 0.1f, 42f};
        Onnx.TensorProto t = OnnxTensors.toProto("w", new long[] {2, 3}, values);
        assertEquals("w", t.getName());
        assertEquals(List.of(2L, 3L), t.getDimsList());
        assertEquals(OnnxTensors.FLOAT, t.getDataType());
        assertEquals(24, t.getRawData().size());
        // byte 0..3 of 1.5f = 0x3FC00000 little-endian
        assertEquals(0x00, t.getRawData().byteAt(0) & 0xff);
        assertEquals(0x3f, t.getRawData().byteAt(3) & 0xff);
        assertArrayEquals(values, OnnxTensors.toFloats(t, FILE));
    }

    @Test
    void toProtoRejectsAShapeThatDoesNotHoldTheValues() {
        assertThrows(IllegalArgumentException.class, () -> OnnxTensors.toProto("w", new long[] {2, 2}, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> OnnxTensors.toProto("w", new long[] {-1}, new float[0]));
    }

    @Test
    void scalarHasNoDimsAndOneValue() {
        Onnx.TensorProto t = OnnxTensors.toProto("s", new long[0], new float[] {7f});
        assertArrayEquals(new float[] {7f}, OnnxTensors.toFloats(t, FILE));
    }

    @Test
    void readsFloatData() {
        Onnx.TensorProto t = tensor(OnnxTensors.FLOAT, 3).addFloatData(1).addFloatData(2).addFloatData(-3).build();
        assertArrayEquals(new float[] {1, 2, -3}, OnnxTensors.toFloats(t, FILE));
    }

    @Test
    void convertsHalfPrecisionFromRawAndTypedStorage() {
        // 1.0 = 0x3C00, -2.0 = 0xC000, smallest subnormal 2^-24 = 0x0001, 65504 = 0x7BFF, +inf = 0x7C00
        short[] halves = {0x3C00, (short) 0xC000, 0x0001, 0x7BFF, 0x7C00};
        float[] expected = {1f, -2f, 0x1p-24f, 65504f, Float.POSITIVE_INFINITY};
        ByteBuffer raw = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        Onnx.TensorProto.Builder typed = tensor(OnnxTensors.FLOAT16, 5);
        for (short h : halves) {
            raw.putShort(h);
            typed.addInt32Data(h & 0xffff);
        }
        Onnx.TensorProto fromRaw = tensor(OnnxTensors.FLOAT16, 5).setRawData(ByteString.copyFrom(raw.array())).build();
        assertArrayEquals(expected, OnnxTensors.toFloats(fromRaw, FILE));
        assertArrayEquals(expected, OnnxTensors.toFloats(typed.build(), FILE));
    }

    @Test
    void convertsBfloat16AndDouble() {
        // bfloat16 is the top half of a float32: 0x3FC0 = 1.5, 0xC120 = -10
        Onnx.TensorProto bf = tensor(OnnxTensors.BFLOAT16, 2).addInt32Data(0x3FC0).addInt32Data(0xC120).build();
        assertArrayEquals(new float[] {1.5f, -10f}, OnnxTensors.toFloats(bf, FILE));
        ByteBuffer raw = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.25).putDouble(-8);
        Onnx.TensorProto d = tensor(OnnxTensors.DOUBLE, 2).setRawData(ByteString.copyFrom(raw.array())).build();
        assertArrayEquals(new float[] {0.25f, -8f}, OnnxTensors.toFloats(d, FILE));
    }

    @Test
    void readsIntegersFromEveryStorage() {
        ByteBuffer raw = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).putLong(1L << 40);
        Onnx.TensorProto r = tensor(OnnxTensors.INT64, 2).setRawData(ByteString.copyFrom(raw.array())).build();
        assertArrayEquals(new long[] {-5, 1L << 40}, OnnxTensors.toLongs(r, FILE));
        Onnx.TensorProto i64 = tensor(OnnxTensors.INT64, 1).addInt64Data(9).build();
        assertArrayEquals(new long[] {9}, OnnxTensors.toLongs(i64, FILE));
        Onnx.TensorProto b = tensor(OnnxTensors.BOOL, 1).setRawData(ByteString.copyFrom(new byte[] {1})).build();
        assertArrayEquals(new long[] {1}, OnnxTensors.toLongs(b, FILE));
    }

    @Test
    void rawDataShorterOrLongerThanTheShapeIsABadFile() {
        Onnx.TensorProto shortRaw = tensor(OnnxTensors.FLOAT, 4).setName("w")
                .setRawData(ByteString.copyFrom(new byte[12])).build();
        BadFileException e = assertThrows(BadFileException.class, () -> OnnxTensors.toFloats(shortRaw, FILE));
        assertTrue(e.getMessage().contains("tensor 'w'") && e.getMessage().contains("16 bytes"), e.getMessage());
        Onnx.TensorProto longRaw = tensor(OnnxTensors.FLOAT, 1).setRawData(ByteString.copyFrom(new byte[8])).build();
        assertThrows(BadFileException.class, () -> OnnxTensors.toFloats(longRaw, FILE));
        Onnx.TensorProto fewTyped = tensor(OnnxTensors.FLOAT, 2).addFloatData(1).build();
        assertThrows(BadFileException.class, () -> OnnxTensors.toFloats(fewTyped, FILE));
    }

    @Test
    void hugeDeclaredShapeFailsBeforeAllocating() {
        Onnx.TensorProto t = Onnx.TensorProto.newBuilder().setName("w").setDataType(OnnxTensors.FLOAT)
                .addDims(1L << 20).addDims(1L << 20).setRawData(ByteString.copyFrom(new byte[4])).build();
        BadFileException e = assertThrows(BadFileException.class, () -> OnnxTensors.toFloats(t, FILE));
        assertTrue(e.getMessage().contains("tensor 'w'"), e.getMessage());
        Onnx.TensorProto negative = Onnx.TensorProto.newBuilder().setDataType(OnnxTensors.FLOAT).addDims(-2).build();
        assertThrows(BadFileException.class, () -> OnnxTensors.toFloats(negative, FILE));
    }

    @Test
    void unsupportedTypesAreNamed() {
        Onnx.TensorProto s = tensor(Onnx.TensorProto.DataType.STRING_VALUE, 1).setName("txt").build();
        BadFileException e = assertThrows(BadFileException.class, () -> OnnxTensors.toFloats(s, FILE));
        assertTrue(e.getMessage().contains("STRING"), e.getMessage());
        Onnx.TensorProto f8 = tensor(Onnx.TensorProto.DataType.FLOAT8E4M3FN_VALUE, 1).build();
        assertThrows(BadFileException.class, () -> OnnxTensors.toFloats(f8, FILE));
    }

    private static Onnx.TensorProto.Builder tensor(int type, long n) {
        return Onnx.TensorProto.newBuilder().setDataType(type).addDims(n);
    }
}
