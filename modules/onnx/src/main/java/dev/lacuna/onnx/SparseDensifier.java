package dev.lacuna.onnx;

import dev.lacuna.core.BadFileException;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The inverse of {@link SparseStorage}, for readers: rewrites a graph so that weights stored sparse become ordinary
 * dense initializers. It densifies every {@code sparse_initializer} (linear or coordinate indices of any integer
 * type, ONNX IR "SparseTensorProto") and evaluates the scatter rebuild, {@code ConstantOfShape → ScatterElements
 * (→ Reshape)} with {@code Cast}s of constant integer indices, wherever its operands are constants. Every other node is kept as
 * it is, so an importer then sees the graph a dense export would have. The codebook form of quantized weights
 * ({@link CodebookStorage}: packed or plain codes and gaps, CumSum, block offsets, Gather) is evaluated the same way.
 *
 * <p>Sizes come from the file: the total number of values materialized is bounded by a budget proportional to the
 * graph's serialized size (a sparse file may expand a few times, never by an amount a crafted header chooses), and
 * every index is checked against its tensor's size.
 */
final class SparseDensifier {
    /**
     * The scatter rebuild, and the decoding of {@link CodebookStorage}'s narrow streams (BitShift unpacking,
     * Slice, CumSum over gaps, block offsets, Gather over the codebook).
     */
    private static final Set<String> SCATTER_OPS = Set.of("ConstantOfShape", "ScatterElements", "Cast", "Reshape",
            "BitShift", "Slice", "CumSum", "Div", "Mul", "Add", "Gather");

    /** A constant produced by this pass: float or integer values with dims. */
    private record Value(long[] dims, float[] floats, long[] longs) {
    }

    private final Path file;
    private final Map<String, Onnx.TensorProto> initializers = new HashMap<>();
    private final Map<String, Value> folded = new HashMap<>();
    private final Map<String, Onnx.NodeProto> foldedBy = new HashMap<>();
    private final long budget;
    private long produced;

    private SparseDensifier(Onnx.GraphProto graph, Path file) {
        this.file = file;
        graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        // at 99% sparsity a tensor holds about 12 dense values per stored byte; leave room for more, not unbounded
        this.budget = (1L << 24) + 32L * graph.getSerializedSize();
    }

    /** The graph with sparse weights densified; the graph itself when it holds none. */
    static Onnx.GraphProto densify(Onnx.GraphProto graph, Path file) {
        boolean scatter = graph.getNodeList().stream().anyMatch(n -> n.getOpType().equals("ScatterElements")
                || n.getOpType().equals("ConstantOfShape"));
        if (graph.getSparseInitializerCount() == 0 && !scatter) {
            return graph;
        }
        return new SparseDensifier(graph, file).run(graph);
    }

    private Onnx.GraphProto run(Onnx.GraphProto graph) {
        Onnx.GraphProto.Builder out = graph.toBuilder().clearSparseInitializer().clearNode();
        for (Onnx.SparseTensorProto sparse : graph.getSparseInitializerList()) {
            out.addInitializer(dense(sparse));
        }
        List<Onnx.NodeProto> kept = new ArrayList<>();
        for (Onnx.NodeProto node : graph.getNodeList()) {
            Value v = SCATTER_OPS.contains(node.getOpType()) && node.getOutputCount() == 1 ? evaluate(node) : null;
            if (v != null) {
                folded.put(node.getOutput(0), v);
                foldedBy.put(node.getOutput(0), node);
            } else {
                kept.add(node);
            }
        }
        Set<String> used = new HashSet<>();
        kept.forEach(n -> used.addAll(n.getInputList()));
        graph.getOutputList().forEach(o -> used.add(o.getName()));
        for (Map.Entry<String, Value> e : folded.entrySet()) {
            if (!used.contains(e.getKey())) {
                continue;
            }
            if (e.getValue().floats() != null) {
                out.addInitializer(OnnxTensors.toProto(e.getKey(), e.getValue().dims(), e.getValue().floats()));
            } else {
                // integer results (casts of index constants) stay computed by their node; its inputs are
                // initializers, so it may run first
                kept.add(0, foldedBy.get(e.getKey()));
            }
        }
        kept.forEach(n -> used.addAll(n.getInputList()));
        // the values, indices, sizes and shapes the rebuild consumed are no longer read by anything
        Set<String> stillRead = new HashSet<>(used);
        graph.getInputList().forEach(i -> stillRead.add(i.getName()));
        List<Onnx.TensorProto> initializersKept = out.getInitializerList().stream()
                .filter(t -> stillRead.contains(t.getName()) || !consumedByFold(graph, t.getName()))
                .toList();
        out.clearInitializer().addAllInitializer(initializersKept);
        out.addAllNode(kept);
        return out.build();
    }

    private boolean consumedByFold(Onnx.GraphProto graph, String name) {
        for (Onnx.NodeProto node : graph.getNodeList()) {
            if (node.getOutputCount() == 1 && folded.containsKey(node.getOutput(0))
                    && node.getInputList().contains(name)) {
                return true;
            }
        }
        return false;
    }

    /** The node's output when it is a step of a scatter rebuild with constant operands, else null. */
    private Value evaluate(Onnx.NodeProto node) {
        return switch (node.getOpType()) {
            case "ConstantOfShape" -> {
                long[] shape = longs(node.getInput(0));
                if (shape == null || ConstantFolder.hasAttribute(node, "value")) {
                    yield null; // a non-default fill value is not what Lacuna writes: leave it to the runtime
                }
                yield new Value(shape, new float[allocation(node, shape)], null);
            }
            case "Cast" -> {
                long to = ConstantFolder.intAttribute(node, "to", 0);
                long[] values = longs(node.getInput(0));
                boolean toIndex = to == Onnx.TensorProto.DataType.INT32_VALUE
                        || to == Onnx.TensorProto.DataType.INT64_VALUE;
                if (values == null || !toIndex) {
                    yield null;
                }
                long[] cast = to == Onnx.TensorProto.DataType.INT32_VALUE
                        ? Arrays.stream(values).map(v -> (int) v).toArray() : values;
                yield new Value(dims(node.getInput(0)), null, cast);
            }
            case "ScatterElements" -> scatter(node);
            case "Reshape" -> {
                Value data = folded.get(node.getInput(0));
                long[] shape = node.getInputCount() == 2 ? longs(node.getInput(1)) : null;
                if (data == null || shape == null) {
                    yield null;
                }
                yield new Value(reshaped(node, data, shape), data.floats(), data.longs());
            }
            case "BitShift", "Div", "Mul", "Add" -> integerArithmetic(node);
            case "Slice" -> slice(node);
            case "CumSum" -> cumSum(node);
            case "Gather" -> gather(node);
            default -> null;
        };
    }

    private Value scatter(Onnx.NodeProto node) {
        if (node.getInputCount() != 3 || ConstantFolder.intAttribute(node, "axis", 0) != 0
                || ConstantFolder.hasAttribute(node, "reduction")) {
            return null;
        }
        Value data = folded.get(node.getInput(0));
        long[] indices = longs(node.getInput(1));
        float[] values = floats(node.getInput(2));
        if (data == null || data.floats() == null || data.dims().length != 1 || indices == null || values == null) {
            return null;
        }
        if (values.length != indices.length) {
            throw new BadFileException(file, ConstantFolder.describe(node) + ": " + indices.length + " indices but "
                    + values.length + " updates");
        }
        float[] out = data.floats().clone();
        budget(node, out.length);
        for (int k = 0; k < indices.length; k++) {
            long i = indices[k] < 0 ? indices[k] + out.length : indices[k];
            if (i < 0 || i >= out.length) {
                throw new BadFileException(file, ConstantFolder.describe(node) + ": index " + indices[k]
                        + " outside a tensor of " + out.length + " values");
            }
            out[(int) i] = values[k];
        }
        return new Value(data.dims(), out, null);
    }

    /** Float values of a folded result or a float initializer, else null. */
    private float[] floats(String name) {
        Value v = folded.get(name);
        if (v != null) {
            return v.floats();
        }
        Onnx.TensorProto t = initializers.get(name);
        return t == null || !OnnxTensors.isReal(t.getDataType()) ? null : OnnxTensors.toFloats(t, file);
    }

    /**
     * BitShift, Div, Mul or Add of two constant integer tensors with NumPy broadcasting. Shifts are of unsigned
     * 64-bit words (the only BitShift {@link CodebookStorage} writes); a shift by 64 or more leaves 0.
     */
    private Value integerArithmetic(Onnx.NodeProto node) {
        if (node.getInputCount() != 2) {
            return null;
        }
        long[] a = longs(node.getInput(0));
        long[] b = longs(node.getInput(1));
        if (a == null || b == null) {
            return null;
        }
        long[] aDims = dims(node.getInput(0));
        long[] bDims = dims(node.getInput(1));
        int rank = Math.max(aDims.length, bDims.length);
        long[] outDims = new long[rank];
        for (int i = 0; i < rank; i++) {
            long da = dim(aDims, i, rank);
            long db = dim(bDims, i, rank);
            if (da != db && da != 1 && db != 1) {
                throw new BadFileException(file, ConstantFolder.describe(node) + ": cannot broadcast "
                        + Arrays.toString(aDims) + " with " + Arrays.toString(bDims));
            }
            outDims[i] = da == 1 ? db : da;
        }
        long[] out = new long[allocation(node, outDims)];
        boolean left = node.getAttributeList().stream().anyMatch(attribute ->
                attribute.getName().equals("direction") && attribute.getS().toStringUtf8().equals("LEFT"));
        for (int flat = 0; flat < out.length; flat++) {
            long x = a[broadcastIndex(flat, outDims, aDims)];
            long y = b[broadcastIndex(flat, outDims, bDims)];
            out[flat] = switch (node.getOpType()) {
                case "BitShift" -> y < 0 || y >= Long.SIZE ? 0 : left ? x << y : x >>> y;
                case "Div" -> {
                    if (y == 0) {
                        throw new BadFileException(file, ConstantFolder.describe(node) + ": division by zero");
                    }
                    yield x / y;
                }
                case "Mul" -> x * y;
                default -> x + y;
            };
        }
        return new Value(outDims, null, out);
    }

    private static long dim(long[] dims, int axis, int rank) {
        int i = axis - (rank - dims.length);
        return i < 0 ? 1 : dims[i];
    }

    /** The index into a broadcast operand of shape {@code dims} for element {@code flat} of the output. */
    private static int broadcastIndex(int flat, long[] outDims, long[] dims) {
        long index = 0;
        long stride = 1;
        long rest = flat;
        for (int axis = outDims.length - 1; axis >= 0; axis--) {
            long coordinate = rest % outDims[axis];
            rest /= outDims[axis];
            long d = dim(dims, axis, outDims.length);
            if (d != 1) {
                index += coordinate * stride;
            }
            stride *= d;
        }
        return (int) index;
    }

    /** Slice of a constant 1-D integer tensor with step 1 (how a packed stream drops its padding). */
    private Value slice(Onnx.NodeProto node) {
        Value data = folded.get(node.getInput(0));
        if (data == null || data.longs() == null || data.dims().length != 1 || node.getInputCount() < 3
                || node.getInputCount() > 4) {
            return null;
        }
        long[] starts = longs(node.getInput(1));
        long[] ends = longs(node.getInput(2));
        long[] axes = node.getInputCount() == 4 ? longs(node.getInput(3)) : new long[] {0};
        if (starts == null || ends == null || axes == null || starts.length != 1 || ends.length != 1
                || axes.length != 1 || axes[0] != 0 && axes[0] != -1) {
            return null;
        }
        int n = data.longs().length;
        long from = Math.max(0, Math.min(n, starts[0] < 0 ? starts[0] + n : starts[0]));
        long to = Math.max(from, Math.min(n, ends[0] < 0 ? ends[0] + n : ends[0]));
        return new Value(new long[] {to - from}, null, Arrays.copyOfRange(data.longs(), (int) from, (int) to));
    }

    /** Inclusive CumSum of a constant 1-D integer tensor along axis 0. */
    private Value cumSum(Onnx.NodeProto node) {
        Value data = folded.get(node.getInput(0));
        long[] axis = node.getInputCount() == 2 ? longs(node.getInput(1)) : null;
        if (data == null || data.longs() == null || data.dims().length != 1 || axis == null || axis.length != 1
                || axis[0] != 0 && axis[0] != -1 || ConstantFolder.intAttribute(node, "exclusive", 0) != 0
                || ConstantFolder.intAttribute(node, "reverse", 0) != 0) {
            return null;
        }
        long[] out = data.longs().clone();
        for (int i = 1; i < out.length; i++) {
            out[i] += out[i - 1];
        }
        return new Value(data.dims(), null, out);
    }

    /** Gather from a constant 1-D float table (a codebook) by constant indices, axis 0. */
    private Value gather(Onnx.NodeProto node) {
        float[] table = node.getInputCount() == 2 ? floats(node.getInput(0)) : null;
        Value indices = node.getInputCount() == 2 ? folded.get(node.getInput(1)) : null;
        if (table == null || indices == null || indices.longs() == null || dims(node.getInput(0)).length != 1
                || ConstantFolder.intAttribute(node, "axis", 0) != 0) {
            return null;
        }
        float[] out = new float[allocation(node, indices.dims())];
        for (int k = 0; k < out.length; k++) {
            long i = indices.longs()[k];
            long at = i < 0 ? i + table.length : i;
            if (at < 0 || at >= table.length) {
                throw new BadFileException(file, ConstantFolder.describe(node) + ": index " + i
                        + " outside a table of " + table.length + " values");
            }
            out[k] = table[(int) at];
        }
        return new Value(indices.dims(), out, null);
    }

    /** A sparse initializer as the dense tensor it stands for. */
    private Onnx.TensorProto dense(Onnx.SparseTensorProto sparse) {
        String name = sparse.getValues().getName();
        long[] dims = sparse.getDimsList().stream().mapToLong(Long::longValue).toArray();
        String where = "sparse initializer '" + name + "'";
        float[] values = OnnxTensors.toFloats(sparse.getValues(), file);
        long[] indices = OnnxTensors.toLongs(sparse.getIndices(), file);
        float[] out = new float[allocation(where, dims)];
        int rank = dims.length;
        // ONNX IR: indices are [nnz] linear positions or [nnz, rank] coordinates
        boolean coordinates = sparse.getIndices().getDimsCount() == 2;
        if (indices.length != (long) values.length * (coordinates ? rank : 1)) {
            throw new BadFileException(file, where + ": " + values.length + " values but " + indices.length
                    + " index entries");
        }
        for (int k = 0; k < values.length; k++) {
            long position = 0;
            if (coordinates) {
                for (int axis = 0; axis < rank; axis++) {
                    long c = indices[k * rank + axis];
                    if (c < 0 || c >= dims[axis]) {
                        throw new BadFileException(file, where + ": coordinate " + c + " outside dimension " + axis
                                + " of " + Arrays.toString(dims));
                    }
                    position = position * dims[axis] + c;
                }
            } else {
                position = indices[k];
            }
            if (position < 0 || position >= out.length) {
                throw new BadFileException(file, where + ": index " + position + " outside a tensor of "
                        + out.length + " values");
            }
            out[(int) position] = values[k];
        }
        return OnnxTensors.toProto(name, dims, out);
    }

    private long[] longs(String name) {
        Value v = folded.get(name);
        if (v != null) {
            return v.longs();
        }
        Onnx.TensorProto t = initializers.get(name);
        return t == null || !OnnxTensors.isInteger(t.getDataType()) ? null : OnnxTensors.toLongs(t, file);
    }

    private long[] dims(String name) {
        Value v = folded.get(name);
        return v != null ? v.dims() : initializers.get(name).getDimsList().stream().mapToLong(Long::longValue)
                .toArray();
    }

    private long[] reshaped(Onnx.NodeProto node, Value data, long[] shape) {
        long[] out = shape.clone();
        long known = 1;
        int inferred = -1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == -1 && inferred < 0) {
                inferred = i;
            } else if (out[i] == 0 && i < data.dims().length) {
                out[i] = data.dims()[i];
                known *= out[i];
            } else if (out[i] < 0) {
                throw new BadFileException(file, ConstantFolder.describe(node) + ": bad shape "
                        + Arrays.toString(shape));
            } else {
                known = Math.multiplyExact(known, out[i]);
            }
        }
        int size = data.floats() != null ? data.floats().length : data.longs().length;
        if (inferred >= 0 && known > 0) {
            out[inferred] = size / known;
            known *= out[inferred];
        }
        if (known != size) {
            throw new BadFileException(file, ConstantFolder.describe(node) + ": cannot reshape " + size
                    + " values to " + Arrays.toString(shape));
        }
        return out;
    }

    private int allocation(Onnx.NodeProto node, long[] dims) {
        return allocation(ConstantFolder.describe(node), dims);
    }

    /** The element count of {@code dims}, checked against the budget before anything is allocated. */
    private int allocation(String where, long[] dims) {
        long count = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new BadFileException(file, where + ": negative dimension in " + Arrays.toString(dims));
            }
            count = Math.multiplyExact(count, d);
            if (count > OnnxTensors.MAX_ELEMENTS) {
                throw new BadFileException(file, where + ": shape " + Arrays.toString(dims) + " is too large");
            }
        }
        budget(where, count);
        return (int) count;
    }

    private void budget(Onnx.NodeProto node, long count) {
        budget(ConstantFolder.describe(node), count);
    }

    private void budget(String where, long count) {
        produced += count;
        if (produced > budget) {
            throw new BadFileException(file, where + ": densifying sparse weights would need more than " + budget
                    + " values, far more than a file of this size can describe");
        }
    }

}
