package dev.lacuna.onnx;

import com.google.protobuf.ByteString;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.Float16;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Conversions between ONNX {@code TensorProto}s and Java arrays.
 *
 * <p>Reading follows the ONNX IR spec (onnx.proto, TensorProto): the values sit either in {@code raw_data}
 * (little-endian, densely packed), in the typed repeated field of the data type ({@code float_data} for FLOAT,
 * {@code int32_data} for FLOAT16/BFLOAT16 bit patterns and the small integer types, {@code int64_data},
 * {@code double_data}, {@code uint64_data}), or in an external file ({@code data_location = EXTERNAL}). Every count
 * is checked against the bytes actually present before an array is allocated, so a lying header fails with a
 * {@link BadFileException} instead of an out-of-memory error.
 */
final class OnnxTensors {
    static final int FLOAT = Onnx.TensorProto.DataType.FLOAT_VALUE;
    static final int FLOAT16 = Onnx.TensorProto.DataType.FLOAT16_VALUE;
    static final int BFLOAT16 = Onnx.TensorProto.DataType.BFLOAT16_VALUE;
    static final int DOUBLE = Onnx.TensorProto.DataType.DOUBLE_VALUE;
    static final int INT64 = Onnx.TensorProto.DataType.INT64_VALUE;
    static final int INT32 = Onnx.TensorProto.DataType.INT32_VALUE;
    static final int BOOL = Onnx.TensorProto.DataType.BOOL_VALUE;

    /** Java arrays cannot hold more; some VMs reserve a few header words below Integer.MAX_VALUE. */
    static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private OnnxTensors() {
    }

    /**
     * A FLOAT tensor with its values in {@code raw_data}, the compact encoding exporters write.
     *
     * @param dims   the shape; its product must equal {@code values.length}
     * @param values row-major values
     */
    static Onnx.TensorProto toProto(String name, long[] dims, float[] values) {
        Onnx.TensorProto header = header(name, dims, values.length);
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, Float.BYTES))
                .order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return header.toBuilder().setRawData(ByteString.copyFrom(bytes.array())).build();
    }

    /**
     * A FLOAT tensor without its values: name, data type and dims, the fields that precede {@code raw_data}
     * (field 9) in the serialized form. {@link StreamedModel} writes the values after it.
     *
     * @param count the number of values; the product of {@code dims} must equal it
     */
    static Onnx.TensorProto header(String name, long[] dims, int count) {
        long product = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(dims));
            }
            product = Math.multiplyExact(product, d);
        }
        if (product != count) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(dims) + " holds " + product
                    + " values, " + count + " given");
        }
        Onnx.TensorProto.Builder proto = Onnx.TensorProto.newBuilder().setName(name).setDataType(FLOAT);
        for (long d : dims) {
            proto.addDims(d);
        }
        return proto.build();
    }

    /** Whether the data type holds real numbers Lacuna reads as float32 (FLOAT, FLOAT16, BFLOAT16, DOUBLE). */
    static boolean isReal(int dataType) {
        return dataType == FLOAT || dataType == FLOAT16 || dataType == BFLOAT16 || dataType == DOUBLE;
    }

    /** Whether the data type holds integers (or booleans) that fit in a long. */
    static boolean isInteger(int dataType) {
        return elementBytes(dataType) > 0 && !isReal(dataType);
    }

    /** The ONNX name of a data type number, for messages. */
    static String typeName(int dataType) {
        Onnx.TensorProto.DataType type = Onnx.TensorProto.DataType.forNumber(dataType);
        return type == null ? "unknown data type " + dataType : type.name();
    }

    /** Bytes per element in {@code raw_data}, or 0 for types Lacuna does not decode. */
    static int elementBytes(int dataType) {
        Onnx.TensorProto.DataType type = Onnx.TensorProto.DataType.forNumber(dataType);
        if (type == null) {
            return 0;
        }
        return switch (type) {
            case FLOAT, INT32, UINT32 -> 4;
            case FLOAT16, BFLOAT16, INT16, UINT16 -> 2;
            case DOUBLE, INT64, UINT64 -> 8;
            case INT8, UINT8, BOOL -> 1;
            default -> 0;
        };
    }

    /**
     * The shape of a tensor as ints, checked: no negative dimension and an element count a Java array can hold.
     *
     * @param file the model file, named in errors
     */
    static int[] shape(Onnx.TensorProto t, Path file) {
        int[] dims = new int[t.getDimsCount()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            long d = t.getDims(i);
            if (d < 0 || d > MAX_ELEMENTS) {
                throw new BadFileException(file, describe(t) + ": dimension " + i + " is " + d);
            }
            dims[i] = (int) d;
            count *= d;
            if (count > MAX_ELEMENTS) {
                throw new BadFileException(file, describe(t) + ": shape " + t.getDimsList() + " holds more than "
                        + MAX_ELEMENTS + " values");
            }
        }
        return dims;
    }

    static int elementCount(int[] dims) {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        return (int) n;
    }

    /**
     * The values of a real-valued tensor as float32 (FLOAT16, BFLOAT16 and DOUBLE are converted).
     *
     * @param file the model file: named in errors, and the folder external data is resolved against
     * @throws BadFileException when the type is not real-valued or the stored values do not match the shape
     */
    static float[] toFloats(Onnx.TensorProto t, Path file) {
        int count = elementCount(shape(t, file));
        int type = t.getDataType();
        if (!isReal(type)) {
            throw new BadFileException(file, describe(t) + ": expected float32 or float16 values, found "
                    + typeName(type));
        }
        ByteBuffer raw = rawBytes(t, file, count);
        float[] out = new float[count];
        if (raw != null) {
            switch (type) {
                case FLOAT -> raw.asFloatBuffer().get(out);
                case FLOAT16 -> {
                    for (int i = 0; i < count; i++) {
                        out[i] = Float16.toFloat(raw.getShort(i * 2));
                    }
                }
                case BFLOAT16 -> {
                    // bfloat16 is the upper half of a float32
                    for (int i = 0; i < count; i++) {
                        out[i] = Float.intBitsToFloat((raw.getShort(i * 2) & 0xffff) << 16);
                    }
                }
                default -> {
                    for (int i = 0; i < count; i++) {
                        out[i] = (float) raw.getDouble(i * 8);
                    }
                }
            }
            return out;
        }
        switch (type) {
            case FLOAT -> {
                requireTyped(t, file, "float_data", t.getFloatDataCount(), count);
                for (int i = 0; i < count; i++) {
                    out[i] = t.getFloatData(i);
                }
            }
            case FLOAT16, BFLOAT16 -> {
                // the 16-bit patterns sit in the low half of int32_data (onnx.proto, TensorProto.int32_data)
                requireTyped(t, file, "int32_data", t.getInt32DataCount(), count);
                for (int i = 0; i < count; i++) {
                    int bits = t.getInt32Data(i) & 0xffff;
                    out[i] = type == FLOAT16 ? Float16.toFloat((short) bits) : Float.intBitsToFloat(bits << 16);
                }
            }
            default -> {
                requireTyped(t, file, "double_data", t.getDoubleDataCount(), count);
                for (int i = 0; i < count; i++) {
                    out[i] = (float) t.getDoubleData(i);
                }
            }
        }
        return out;
    }

    /**
     * The values of an integer or boolean tensor as longs (the index and shape operands of Slice, Gather, Reshape).
     *
     * @throws BadFileException when the type is not an integer type or the values do not match the shape
     */
    static long[] toLongs(Onnx.TensorProto t, Path file) {
        int count = elementCount(shape(t, file));
        int type = t.getDataType();
        if (!isInteger(type)) {
            throw new BadFileException(file, describe(t) + ": expected integer values, found " + typeName(type));
        }
        ByteBuffer raw = rawBytes(t, file, count);
        long[] out = new long[count];
        int width = elementBytes(type);
        boolean unsigned = type == Onnx.TensorProto.DataType.UINT8_VALUE
                || type == Onnx.TensorProto.DataType.UINT16_VALUE || type == Onnx.TensorProto.DataType.UINT32_VALUE
                || type == BOOL;
        if (raw != null) {
            for (int i = 0; i < count; i++) {
                long v = switch (width) {
                    case 1 -> raw.get(i);
                    case 2 -> raw.getShort(i * 2);
                    case 4 -> raw.getInt(i * 4);
                    default -> raw.getLong(i * 8);
                };
                out[i] = unsigned && width < 8 ? v & ((1L << (8 * width)) - 1) : v;
            }
            return out;
        }
        if (type == INT64) {
            requireTyped(t, file, "int64_data", t.getInt64DataCount(), count);
            for (int i = 0; i < count; i++) {
                out[i] = t.getInt64Data(i);
            }
        } else if (type == Onnx.TensorProto.DataType.UINT32_VALUE
                || type == Onnx.TensorProto.DataType.UINT64_VALUE) {
            requireTyped(t, file, "uint64_data", t.getUint64DataCount(), count);
            for (int i = 0; i < count; i++) {
                out[i] = t.getUint64Data(i);
            }
        } else {
            requireTyped(t, file, "int32_data", t.getInt32DataCount(), count);
            for (int i = 0; i < count; i++) {
                out[i] = t.getInt32Data(i);
            }
        }
        return out;
    }

    /**
     * The little-endian bytes of a tensor stored in {@code raw_data} or externally, or null when it uses a typed
     * field. The byte count must equal {@code count} elements exactly.
     */
    static ByteBuffer rawBytes(Onnx.TensorProto t, Path file, int count) {
        int width = elementBytes(t.getDataType());
        long expected = (long) count * width;
        if (t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL) {
            return OnnxFiles.externalData(file, t, expected).order(ByteOrder.LITTLE_ENDIAN);
        }
        if (!t.hasRawData()) {
            return null;
        }
        ByteString data = t.getRawData();
        if (data.size() != expected) {
            throw new BadFileException(file, describe(t) + ": shape " + t.getDimsList() + " of "
                    + typeName(t.getDataType()) + " needs " + expected + " bytes of raw_data, found " + data.size());
        }
        // A read-only view, not a copy: the model's bytes are held once (possibly memory-mapped).
        return data.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void requireTyped(Onnx.TensorProto t, Path file, String field, int found, int count) {
        if (found != count) {
            throw new BadFileException(file, describe(t) + ": shape " + t.getDimsList() + " needs " + count
                    + " values, " + field + " holds " + found);
        }
    }

    /** "tensor 'name'" or "an unnamed tensor", for messages. */
    static String describe(Onnx.TensorProto t) {
        return t.getName().isEmpty() ? "unnamed tensor" : "tensor '" + t.getName() + "'";
    }
}
