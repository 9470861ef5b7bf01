package dev.lacuna.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import dev.lacuna.core.LacunaException;
import dev.lacuna.onnx.proto.Onnx;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * An exported model whose large dense initializers are written straight from the model's arrays.
 *
 * <p>The skeleton is the whole {@code ModelProto} except that each deferred initializer is only its header (name,
 * data type, dims); its {@code raw_data} comes from {@link DenseValues} at write time. The output is byte for byte
 * what protobuf writes for the {@linkplain #materialize() materialized} model. protobuf-java's generated code writes
 * known fields in ascending field number, then unknown fields (the encoding spec, "Field Order", leaves the order to
 * the implementation; StreamedExportTest compares the bytes), so the bytes of {@code ModelProto} are its fields
 * below {@code graph} (7), the graph as a length-delimited field, then its fields above 7; likewise
 * {@code GraphProto} around {@code initializer} (5), and a header's fields (1, 2, 8) all come before {@code raw_data}
 * (9). Lengths are computed before writing, as protobuf needs them ahead of each nested message.
 */
final class StreamedModel {
    private static final int GRAPH = Onnx.ModelProto.GRAPH_FIELD_NUMBER;
    private static final int INITIALIZER = Onnx.GraphProto.INITIALIZER_FIELD_NUMBER;
    private static final int RAW_DATA = Onnx.TensorProto.RAW_DATA_FIELD_NUMBER;
    private static final int BUFFER = 1 << 16;

    private final Onnx.ModelProto skeleton;
    private final Map<String, DenseValues> deferred;

    /**
     * @param skeleton the model, with each deferred initializer present as a header without values
     * @param deferred the values of the deferred initializers, by initializer name
     */
    StreamedModel(Onnx.ModelProto skeleton, Map<String, DenseValues> deferred) {
        this.skeleton = skeleton;
        this.deferred = Map.copyOf(deferred);
        for (Onnx.TensorProto t : skeleton.getGraph().getInitializerList()) {
            DenseValues values = deferred.get(t.getName());
            if (values != null && !isHeader(t)) {
                throw new IllegalArgumentException("initializer '" + t.getName() + "' is deferred but not a header");
            }
        }
    }

    /** Serialized size of the whole model in bytes. */
    long serializedSize() {
        long graph = graphSize();
        return below(skeleton, GRAPH).getSerializedSize() + lengthDelimited(GRAPH, graph)
                + above(skeleton, GRAPH).getSerializedSize();
    }

    /** The model with every deferred initializer's values in {@code raw_data}, for in-memory use. */
    Onnx.ModelProto materialize() {
        if (deferred.isEmpty()) {
            return skeleton;
        }
        Onnx.GraphProto.Builder graph = skeleton.getGraph().toBuilder();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            Onnx.TensorProto t = graph.getInitializer(i);
            DenseValues values = deferred.get(t.getName());
            if (values != null) {
                ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.size(), Float.BYTES))
                        .order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(values.toArray());
                graph.setInitializer(i, t.toBuilder().setRawData(UnsafeByteOperations.unsafeWrap(bytes.array())));
            }
        }
        return skeleton.toBuilder().setGraph(graph).build();
    }

    /**
     * Writes the serialized model.
     *
     * @throws LacunaException when the model exceeds protobuf's 2 GiB message limit
     */
    void writeTo(OutputStream stream) throws IOException {
        long total = serializedSize();
        if (total > Integer.MAX_VALUE) {
            throw new LacunaException("the ONNX model would be " + total + " bytes, more than protobuf's 2 GiB "
                    + "limit for one file");
        }
        CodedOutputStream out = CodedOutputStream.newInstance(stream, BUFFER);
        long direct = 0;
        Onnx.GraphProto graph = skeleton.getGraph();
        below(skeleton, GRAPH).writeTo(out);
        out.writeTag(GRAPH, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag((int) graphSize());
        below(graph, INITIALIZER).writeTo(out);
        for (Onnx.TensorProto t : graph.getInitializerList()) {
            DenseValues values = deferred.get(t.getName());
            if (values == null) {
                out.writeMessage(INITIALIZER, t);
                continue;
            }
            out.writeTag(INITIALIZER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag((int) tensorSize(t, values));
            t.writeTo(out);
            out.writeTag(RAW_DATA, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag(values.size() * Float.BYTES);
            // the values bypass the encoder's buffer, which would only add a copy
            out.flush();
            values.writeLittleEndian(stream);
            direct += (long) values.size() * Float.BYTES;
        }
        above(graph, INITIALIZER).writeTo(out);
        above(skeleton, GRAPH).writeTo(out);
        out.flush();
        if (out.getTotalBytesWritten() + direct != total) {
            throw new IllegalStateException("wrote " + (out.getTotalBytesWritten() + direct)
                    + " bytes of a model sized " + total);
        }
    }

    private long graphSize() {
        Onnx.GraphProto graph = skeleton.getGraph();
        long size = below(graph, INITIALIZER).getSerializedSize() + above(graph, INITIALIZER).getSerializedSize();
        for (Onnx.TensorProto t : graph.getInitializerList()) {
            DenseValues values = deferred.get(t.getName());
            size += values == null ? CodedOutputStream.computeMessageSize(INITIALIZER, t)
                    : lengthDelimited(INITIALIZER, tensorSize(t, values));
        }
        return size;
    }

    /** Bytes of a header followed by its values as {@code raw_data}. */
    private static long tensorSize(Onnx.TensorProto header, DenseValues values) {
        return header.getSerializedSize() + lengthDelimited(RAW_DATA, (long) values.size() * Float.BYTES);
    }

    /** Bytes of a length-delimited field: tag, length prefix, body. */
    private static long lengthDelimited(int field, long body) {
        return CodedOutputStream.computeTagSize(field) + computeLengthSize(body) + body;
    }

    private static int computeLengthSize(long length) {
        return CodedOutputStream.computeUInt64SizeNoTag(length);
    }

    /** Only the known fields numbered below {@code field}; unknown fields (written last) are dropped. */
    private static Message below(Message message, int field) {
        Message.Builder b = keep(message, n -> n < field);
        b.setUnknownFields(UnknownFieldSet.getDefaultInstance());
        return b.build();
    }

    /** Only the fields numbered above {@code field}, with the unknown fields. */
    private static Message above(Message message, int field) {
        return keep(message, n -> n > field).build();
    }

    private static Message.Builder keep(Message message, IntPredicate number) {
        Message.Builder b = message.toBuilder();
        for (FieldDescriptor f : message.getDescriptorForType().getFields()) {
            if (!number.test(f.getNumber())) {
                b.clearField(f);
            }
        }
        return b;
    }

    /** A FLOAT tensor with no stored values, as {@link OnnxTensors#header} builds them. */
    private static boolean isHeader(Onnx.TensorProto t) {
        return t.getDataType() == OnnxTensors.FLOAT && !t.hasRawData() && t.getFloatDataCount() == 0
                && t.getExternalDataCount() == 0 && t.getRawData().equals(ByteString.EMPTY);
    }
}
