package dev.lacuna.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Assembles an ONNX graph: nodes, dense and sparse initializers, and the tensors and attributes they need. Large
 * dense initializers can be deferred: the graph holds their headers and {@link #deferred()} their values. Every
 * value name is registered once, so a second producer of the same name is a programming error caught at export,
 * not an invalid file found by a runtime.
 */
final class OnnxGraphBuilder {
    private final Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder();
    private final Set<String> produced = new HashSet<>();
    private final Map<String, DenseValues> deferred = new LinkedHashMap<>();

    OnnxGraphBuilder(String name) {
        graph.setName(name);
    }

    Onnx.GraphProto.Builder proto() {
        return graph;
    }

    void initializer(Onnx.TensorProto tensor) {
        claim(tensor.getName());
        graph.addInitializer(tensor);
    }

    /**
     * Adds a dense float initializer whose values stay in {@code values} until the model is written (see
     * {@link StreamedModel}); the graph holds its header only.
     */
    void denseInitializer(String name, long[] dims, DenseValues values) {
        Onnx.TensorProto header = OnnxTensors.header(name, dims, values.size());
        claim(name);
        graph.addInitializer(header);
        deferred.put(name, values);
    }

    /** The values of the initializers added by {@link #denseInitializer}, by name. */
    Map<String, DenseValues> deferred() {
        return Collections.unmodifiableMap(deferred);
    }

    void sparseInitializer(Onnx.SparseTensorProto tensor) {
        claim(tensor.getValues().getName());
        graph.addSparseInitializer(tensor);
    }

    /** Adds an int64 initializer (shapes, axes, pads) and returns its name. */
    String int64s(String name, long... values) {
        initializer(int64Tensor(name, values));
        return name;
    }

    /** Adds a node producing {@code outputs}; an empty input name marks an omitted optional input. */
    void node(String opType, String name, List<String> inputs, List<String> outputs,
              Onnx.AttributeProto... attributes) {
        add(node(opType, name, inputs, outputs, List.of(attributes)));
    }

    void add(Onnx.NodeProto node) {
        node.getOutputList().forEach(this::claim);
        graph.addNode(node);
    }

    static Onnx.NodeProto node(String opType, String name, List<String> inputs, List<String> outputs,
                               List<Onnx.AttributeProto> attributes) {
        return Onnx.NodeProto.newBuilder().setOpType(opType).setName(name).addAllInput(inputs)
                .addAllOutput(outputs).addAllAttribute(attributes).build();
    }

    private void claim(String name) {
        if (!name.isEmpty() && !produced.add(name)) {
            throw new IllegalStateException("ONNX value '" + name + "' is produced twice");
        }
    }

    // ------------------------------------------------------------------ attributes

    static Onnx.AttributeProto attribute(String name, long value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT)
                .setI(value).build();
    }

    static Onnx.AttributeProto attribute(String name, String value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFrom(value, StandardCharsets.UTF_8)).build();
    }

    static Onnx.AttributeProto strings(String name, List<String> values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.STRINGS);
        values.forEach(v -> a.addStrings(ByteString.copyFrom(v, StandardCharsets.UTF_8)));
        return a.build();
    }

    static Onnx.AttributeProto ints(String name, long... values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    // ------------------------------------------------------------------ tensors

    static Onnx.TensorProto int64Tensor(String name, long... values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(values);
        return Onnx.TensorProto.newBuilder().setName(name).setDataType(Onnx.TensorProto.DataType.INT64_VALUE)
                .addDims(values.length).setRawData(ByteString.copyFrom(bytes.array())).build();
    }

    /**
     * A 1-D integer tensor of {@code values} in the given width (1, 2 or 4 bytes: INT8, INT16 or INT32), raw
     * little-endian. The caller guarantees every value fits.
     */
    static Onnx.TensorProto intTensor(String name, int[] values, int bytesPerValue) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, bytesPerValue))
                .order(ByteOrder.LITTLE_ENDIAN);
        int dataType;
        switch (bytesPerValue) {
            case 1 -> {
                dataType = Onnx.TensorProto.DataType.INT8_VALUE;
                for (int v : values) {
                    bytes.put((byte) v);
                }
            }
            case 2 -> {
                dataType = Onnx.TensorProto.DataType.INT16_VALUE;
                for (int v : values) {
                    bytes.putShort((short) v);
                }
            }
            case 4 -> {
                dataType = Onnx.TensorProto.DataType.INT32_VALUE;
                bytes.asIntBuffer().put(values);
            }
            default -> throw new IllegalArgumentException("no integer type of " + bytesPerValue + " bytes");
        }
        return Onnx.TensorProto.newBuilder().setName(name).setDataType(dataType).addDims(values.length)
                .setRawData(ByteString.copyFrom(bytes.array())).build();
    }

    // ------------------------------------------------------------------ value infos

    /** A graph input or output of a tensor type; a String dimension is symbolic, a Long one fixed. */
    static Onnx.ValueInfoProto valueInfo(String name, int elementType, Object... dims) {
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
        for (Object d : dims) {
            Onnx.TensorShapeProto.Dimension.Builder dim = Onnx.TensorShapeProto.Dimension.newBuilder();
            if (d instanceof String symbol) {
                dim.setDimParam(symbol);
            } else {
                dim.setDimValue(((Number) d).longValue());
            }
            shape.addDim(dim);
        }
        Onnx.TypeProto type = Onnx.TypeProto.newBuilder().setTensorType(
                Onnx.TypeProto.Tensor.newBuilder().setElemType(elementType).setShape(shape)).build();
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(type).build();
    }

    // ------------------------------------------------------------------ sizes

    /** Bytes a message takes as repeated field {@code field} of GraphProto (tag, length prefix and body). */
    static long fieldBytes(int field, MessageLite message) {
        return CodedOutputStream.computeMessageSize(field, message);
    }
}
