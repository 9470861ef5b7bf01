package dev.lacuna.onnx;

import com.google.protobuf.CodedOutputStream;
import dev.lacuna.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.List;

/**
 * Stores one weight tensor in an ONNX graph in the requested {@link SparseMode}, or dense when that is smaller.
 *
 * <p>Sizes are the exact serialized bytes each form adds to the GraphProto (tags and length prefixes included), so
 * "smaller" is decided on the file itself, not on an estimate. Non-zero means a non-zero bit pattern: a {@code -0.0}
 * weight is kept as a value, so the rebuilt tensor is bit-identical to the model's.
 *
 * <p>Indices are linear positions in the row-major tensor. ONNX Runtime reads int8, int16, int32 and int64 indices of
 * sparse initializers, and ScatterElements takes int32 or int64 (ONNX Operators.md, ScatterElements {@code Tind}),
 * so the narrowest type holding the largest position is chosen, and narrower-than-int32 scatter indices get a Cast.
 * The scatter form may instead hold the positions as int8 gaps summed by CumSum, when that is smaller (a tensor of more
 * than 32768 values otherwise needs int32 indices).
 */
final class SparseStorage {
    /** GraphProto field numbers (onnx.proto): node 1, initializer 5, sparse_initializer 15. */
    private static final int NODE_FIELD = 1;
    private static final int INITIALIZER_FIELD = 5;
    private static final int SPARSE_INITIALIZER_FIELD = 15;
    /** TensorProto field number of raw_data. */
    private static final int RAW_DATA_FIELD = 9;
    /** Largest gap an int8 stream holds. */
    private static final int MAX_GAP = Byte.MAX_VALUE;

    private SparseStorage() {
    }

    /** Adds tensor {@code name} of shape {@code dims} to the graph and reports the form chosen. */
    static ExportReport.StoredTensor add(OnnxGraphBuilder graph, String name, long[] dims, float[] values,
                                         SparseMode mode) {
        return add(graph, name, dims, DenseValues.of(values), mode, 1);
    }

    /**
     * Adds tensor {@code name} of shape {@code dims} to the graph and reports the form chosen. A tensor stored dense
     * is added as a deferred initializer ({@link OnnxGraphBuilder#denseInitializer}), so its values are not copied.
     *
     * @param codebookBlocks the number of equal consecutive blocks that may each share their own set of values (the
     *                       gate blocks of a recurrent matrix quantized per gate), or 1
     */
    static ExportReport.StoredTensor add(OnnxGraphBuilder graph, String name, long[] dims, DenseValues values,
                                         SparseMode mode, int codebookBlocks) {
        Onnx.TensorProto header = OnnxTensors.header(name, dims, values.size());
        long valueBytes = (long) values.size() * Float.BYTES;
        long tensorBytes = header.getSerializedSize() + CodedOutputStream.computeTagSize(RAW_DATA_FIELD)
                + CodedOutputStream.computeUInt64SizeNoTag(valueBytes) + valueBytes;
        long denseBytes = CodedOutputStream.computeTagSize(INITIALIZER_FIELD)
                + CodedOutputStream.computeUInt64SizeNoTag(tensorBytes) + tensorBytes;
        long nonzero = values.nonzeroCount();
        if (mode != SparseMode.NONE && sparseMightBeSmaller(values, nonzero, denseBytes, mode)) {
            float[] array = values.toArray();
            int[] positions = nonzeroPositions(array);
            Fragment sparse = mode == SparseMode.INITIALIZER
                    ? sparseInitializer(name, dims, array, positions)
                    : scatter(name, dims, array, positions);
            if (mode == SparseMode.SCATTER) {
                // a tensor of more than 32768 values needs int32 indices; one-byte gaps are usually smaller
                Fragment gaps = gapScatter(name, dims, array, positions);
                if (gaps != null && gaps.bytes() < sparse.bytes()) {
                    sparse = gaps;
                }
                // a quantized model's values come from a small set: codebook + codes + gaps may be smaller still
                Fragment codebook = CodebookStorage.build(name, dims, array, positions, codebookBlocks);
                if (codebook != null && codebook.bytes() < sparse.bytes()) {
                    sparse = codebook;
                }
            }
            if (sparse.bytes() < denseBytes) {
                sparse.addTo(graph);
                return new ExportReport.StoredTensor(name, mode, values.size(), positions.length, sparse.bytes(),
                        sparse.codebookSize());
            }
        }
        graph.denseInitializer(name, dims, values);
        return new ExportReport.StoredTensor(name, SparseMode.NONE, values.size(), nonzero, denseBytes);
    }

    /**
     * False when no sparse form can beat {@code denseBytes}, decided without building one (building the candidates
     * of a dense 100M-parameter model's largest matrix takes several times its size in heap). Every form but the
     * codebook stores at least 4 bytes of value and 1 byte of index (or gap) per non-zero; the codebook form exists
     * only when the stored values repeat ({@link CodebookStorage#mightApply}).
     */
    private static boolean sparseMightBeSmaller(DenseValues values, long nonzero, long denseBytes, SparseMode mode) {
        if ((Float.BYTES + 1) * nonzero < denseBytes) {
            return true;
        }
        return mode == SparseMode.SCATTER && CodebookStorage.mightApply(values, nonzero);
    }

    /** Bytes per index that can address every position of a tensor of {@code size} elements. */
    static int indexBytes(int size) {
        if (size <= Byte.MAX_VALUE + 1) {
            return 1;
        }
        return size <= Short.MAX_VALUE + 1 ? 2 : 4;
    }

    static int[] nonzeroPositions(float[] values) {
        int count = 0;
        for (float v : values) {
            if (Float.floatToRawIntBits(v) != 0) {
                count++;
            }
        }
        int[] positions = new int[count];
        int k = 0;
        for (int i = 0; i < values.length; i++) {
            if (Float.floatToRawIntBits(values[i]) != 0) {
                positions[k++] = i;
            }
        }
        return positions;
    }

    private static float[] gather(float[] values, int[] positions) {
        float[] out = new float[positions.length];
        for (int k = 0; k < positions.length; k++) {
            out[k] = values[positions[k]];
        }
        return out;
    }

    /** ONNX IR sparse tensor: values [nnz], 1-D linear indices [nnz], dims of the dense tensor. */
    private static Fragment sparseInitializer(String name, long[] dims, float[] values, int[] positions) {
        Onnx.SparseTensorProto.Builder sparse = Onnx.SparseTensorProto.newBuilder()
                .setValues(OnnxTensors.toProto(name, new long[] {positions.length}, gather(values, positions)))
                .setIndices(OnnxGraphBuilder.intTensor(name + ".indices", positions, indexBytes(values.length)));
        for (long d : dims) {
            sparse.addDims(d);
        }
        Onnx.SparseTensorProto proto = sparse.build();
        return new Fragment(List.of(), List.of(), proto,
                OnnxGraphBuilder.fieldBytes(SPARSE_INITIALIZER_FIELD, proto), 0);
    }

    /**
     * Values and indices as ordinary initializers; the dense tensor is {@code Reshape(ScatterElements(
     * ConstantOfShape([size]), indices, values), dims)}. ConstantOfShape without a value attribute yields float32
     * zeros (Operators.md, ConstantOfShape).
     */
    private static Fragment scatter(String name, long[] dims, float[] values, int[] positions) {
        List<Onnx.TensorProto> initializers = new ArrayList<>();
        List<Onnx.NodeProto> nodes = new ArrayList<>();
        boolean reshape = dims.length != 1;
        String flat = reshape ? name + ".flat" : name;
        String size = name + ".size";
        initializers.add(OnnxGraphBuilder.int64Tensor(size, values.length));
        String zeros = positions.length == 0 ? flat : name + ".zeros";
        nodes.add(OnnxGraphBuilder.node("ConstantOfShape", name + ".zeros_node", List.of(size), List.of(zeros),
                List.of()));
        if (positions.length > 0) {
            String valueName = name + ".values";
            String indexName = name + ".indices";
            int width = indexBytes(values.length);
            initializers.add(OnnxTensors.toProto(valueName, new long[] {positions.length}, gather(values, positions)));
            initializers.add(OnnxGraphBuilder.intTensor(indexName, positions, width));
            if (width < Integer.BYTES) {
                String wide = indexName + ".int32";
                nodes.add(OnnxGraphBuilder.node("Cast", indexName + ".cast", List.of(indexName), List.of(wide),
                        List.of(OnnxGraphBuilder.attribute("to", Onnx.TensorProto.DataType.INT32_VALUE))));
                indexName = wide;
            }
            nodes.add(OnnxGraphBuilder.node("ScatterElements", name + ".scatter",
                    List.of(zeros, indexName, valueName), List.of(flat),
                    List.of(OnnxGraphBuilder.attribute("axis", 0))));
        }
        return flatToShape(name, dims, reshape, flat, initializers, nodes);
    }

    /** Reshapes the rebuilt flat tensor to {@code dims} when it is not 1-D, and sizes the whole fragment. */
    private static Fragment flatToShape(String name, long[] dims, boolean reshape, String flat,
                                        List<Onnx.TensorProto> initializers, List<Onnx.NodeProto> nodes) {
        if (reshape) {
            String shape = name + ".shape";
            initializers.add(OnnxGraphBuilder.int64Tensor(shape, dims));
            nodes.add(OnnxGraphBuilder.node("Reshape", name + ".reshape", List.of(flat, shape), List.of(name),
                    List.of()));
        }
        long bytes = 0;
        for (Onnx.TensorProto t : initializers) {
            bytes += OnnxGraphBuilder.fieldBytes(INITIALIZER_FIELD, t);
        }
        for (Onnx.NodeProto n : nodes) {
            bytes += OnnxGraphBuilder.fieldBytes(NODE_FIELD, n);
        }
        return new Fragment(initializers, nodes, null, bytes, 0);
    }

    /**
     * Like {@link #scatter}, with the positions as int8 gaps (Deep Compression §4(a) relative indices) that an
     * inclusive {@code CumSum} turns back into positions: {@code g_0 = p_0}, {@code g_i = p_i − p_(i−1)}. A gap
     * above {@value #MAX_GAP} is bridged by fillers, entries of value {@code +0.0} at positions in between; every
     * such position holds {@code +0.0} already (all others are stored), so positions stay distinct and the rebuilt
     * tensor is unchanged. Null when there is nothing to store.
     */
    private static Fragment gapScatter(String name, long[] dims, float[] values, int[] positions) {
        if (positions.length == 0) {
            return null;
        }
        int count = 0;
        int previous = 0;
        for (int p : positions) {
            count += 1 + (p - previous - 1) / MAX_GAP;
            previous = p;
        }
        int[] gaps = new int[count];
        float[] stored = new float[count];
        int k = 0;
        previous = 0;
        for (int p : positions) {
            while (p - previous > MAX_GAP) {
                previous += MAX_GAP;
                gaps[k++] = MAX_GAP; // a filler: stored[k] stays +0.0
            }
            gaps[k] = p - previous;
            stored[k++] = values[p];
            previous = p;
        }
        List<Onnx.TensorProto> initializers = new ArrayList<>();
        List<Onnx.NodeProto> nodes = new ArrayList<>();
        boolean reshape = dims.length != 1;
        String flat = reshape ? name + ".flat" : name;
        String size = name + ".size";
        String gapName = name + ".gaps";
        String valueName = name + ".values";
        String axis = name + ".axis";
        initializers.add(OnnxGraphBuilder.int64Tensor(size, values.length));
        initializers.add(OnnxTensors.toProto(valueName, new long[] {count}, stored));
        initializers.add(OnnxGraphBuilder.intTensor(gapName, gaps, 1));
        initializers.add(Onnx.TensorProto.newBuilder().setName(axis)
                .setDataType(Onnx.TensorProto.DataType.INT64_VALUE).addInt64Data(0).build());
        nodes.add(OnnxGraphBuilder.node("ConstantOfShape", name + ".zeros_node", List.of(size),
                List.of(name + ".zeros"), List.of()));
        nodes.add(OnnxGraphBuilder.node("Cast", gapName + ".cast", List.of(gapName), List.of(gapName + ".int32"),
                List.of(OnnxGraphBuilder.attribute("to", Onnx.TensorProto.DataType.INT32_VALUE))));
        nodes.add(OnnxGraphBuilder.node("CumSum", name + ".positions_node", List.of(gapName + ".int32", axis),
                List.of(name + ".positions"), List.of()));
        nodes.add(OnnxGraphBuilder.node("ScatterElements", name + ".scatter",
                List.of(name + ".zeros", name + ".positions", valueName), List.of(flat),
                List.of(OnnxGraphBuilder.attribute("axis", 0))));
        return flatToShape(name, dims, reshape, flat, initializers, nodes);
    }

    /**
     * One candidate form of a tensor, built but not yet added, so its size can be compared first.
     *
     * @param codebookSize entries of the shared-value codebook ({@link CodebookStorage}), 0 for other forms
     */
    record Fragment(List<Onnx.TensorProto> initializers, List<Onnx.NodeProto> nodes,
                    Onnx.SparseTensorProto sparse, long bytes, int codebookSize) {
        void addTo(OnnxGraphBuilder graph) {
            initializers.forEach(graph::initializer);
            nodes.forEach(graph::add);
            if (sparse != null) {
                graph.sparseInitializer(sparse);
            }
        }
    }
}
