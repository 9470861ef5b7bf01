package dev.lacuna.onnx;

import dev.lacuna.core.BadFileException;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the values of tensors that are fixed when the model is loaded, wherever they live: graph initializers,
 * Constant nodes, the outputs of If nodes whose condition is itself constant (the chosen branch is evaluated in its
 * own scope, which sees the enclosing graphs' names), and the small ops PyTorch wraps weights in when exported with
 * {@code do_constant_folding=False}: Identity, Cast, Transpose, Reshape, Squeeze, Unsqueeze, Concat, Slice, Gather
 * and Split.
 *
 * <p>A name computed from a runtime input (or by any other op) is not constant: {@link Scope#value} answers null.
 * Results are cached per scope, and cycles and absurdly deep chains are reported as bad files, not stack overflows.
 */
final class ConstantFolder {
    /** Deeper chains of constant ops than any exporter writes; beyond it a crafted file could overflow the stack. */
    private static final int MAX_DEPTH = 400;
    private static final Set<String> SINGLE_OUTPUT_OPS = Set.of("Identity", "Cast", "Transpose", "Reshape", "Squeeze",
            "Unsqueeze", "Concat", "Slice", "Gather");

    private final Path file;
    private final Scope root;
    private final long budget;
    private long produced;
    private int depth;

    ConstantFolder(Onnx.GraphProto graph, Path file) {
        this.file = file;
        this.root = new Scope(graph, null);
        // Concat or Gather can repeat one stored tensor many times; folding may produce a few times the values the
        // file holds, never an amount a crafted graph chooses.
        this.budget = (1L << 24) + 2L * graph.getSerializedSize();
    }

    Scope root() {
        return root;
    }

    /** The names visible in one graph: its initializers, node outputs and inputs, then those of enclosing graphs. */
    final class Scope {
        private final Onnx.GraphProto graph;
        private final Scope parent;
        private final Map<String, Onnx.TensorProto> initializers = new HashMap<>();
        private final Map<String, Onnx.NodeProto> producers = new HashMap<>();
        private final Map<String, Integer> outputIndex = new HashMap<>();
        private final Set<String> inputs = new HashSet<>();
        private final Map<String, ConstValue> cache = new HashMap<>();
        private final Set<String> inProgress = new HashSet<>();

        private Scope(Onnx.GraphProto graph, Scope parent) {
            this.graph = graph;
            this.parent = parent;
            for (Onnx.TensorProto t : graph.getInitializerList()) {
                initializers.put(t.getName(), t);
            }
            for (Onnx.ValueInfoProto in : graph.getInputList()) {
                inputs.add(in.getName());
            }
            for (Onnx.NodeProto node : graph.getNodeList()) {
                for (int k = 0; k < node.getOutputCount(); k++) {
                    producers.put(node.getOutput(k), node);
                    outputIndex.put(node.getOutput(k), k);
                }
            }
        }

        Onnx.GraphProto graph() {
            return graph;
        }

        /** The node of this graph that outputs {@code name}, or null. */
        Onnx.NodeProto producer(String name) {
            return producers.get(name);
        }

        /** The initializer of this graph named {@code name}, or null. */
        Onnx.TensorProto initializer(String name) {
            return initializers.get(name);
        }

        /**
         * The value of {@code name} if it is fixed at load time, else null (a runtime input, an empty optional input
         * or the output of an op this folder does not evaluate).
         *
         * @throws BadFileException when a constant is malformed or the graph has a cycle
         */
        ConstValue value(String name) {
            if (name.isEmpty()) {
                return null;
            }
            Onnx.TensorProto init = initializers.get(name);
            if (init != null) {
                // decoded on each request, not cached: the caller converts weights and drops the decoded copy,
                // which keeps the importer's heap near the size of the weights instead of twice it
                return fromTensor(init);
            }
            if (cache.containsKey(name)) {
                return cache.get(name);
            }
            ConstValue v;
            if (producers.containsKey(name)) {
                Onnx.NodeProto node = producers.get(name);
                if (!inProgress.add(name)) {
                    throw new BadFileException(file, "graph has a cycle through " + describe(node));
                }
                if (++depth > MAX_DEPTH) {
                    throw new BadFileException(file, "chain of more than " + MAX_DEPTH + " constant operations "
                            + "ending at " + describe(node));
                }
                try {
                    v = evaluate(this, node, outputIndex.get(name));
                    produced += v == null ? 0 : v.size();
                    if (produced > budget) {
                        throw new BadFileException(file, "constant folding at " + describe(node) + " would produce "
                                + "more than " + budget + " values, far more than the file stores");
                    }
                } finally {
                    depth--;
                    inProgress.remove(name);
                }
            } else if (inputs.contains(name) || parent == null) {
                v = null;
            } else {
                v = parent.value(name);
            }
            cache.put(name, v);
            return v;
        }

        private Scope child(Onnx.GraphProto subgraph) {
            return new Scope(subgraph, this);
        }
    }

    /** A tensor's value, or null for element types that are neither real nor integer (strings, float8, ...). */
    ConstValue fromTensor(Onnx.TensorProto t) {
        int[] dims = OnnxTensors.shape(t, file);
        if (OnnxTensors.isReal(t.getDataType())) {
            return ConstValue.ofFloats(dims, OnnxTensors.toFloats(t, file));
        }
        if (OnnxTensors.isInteger(t.getDataType())) {
            return ConstValue.ofLongs(dims, OnnxTensors.toLongs(t, file));
        }
        return null;
    }

    private ConstValue evaluate(Scope scope, Onnx.NodeProto node, int output) {
        String domain = node.getDomain();
        if (!domain.isEmpty() && !domain.equals("ai.onnx")) {
            return null;
        }
        try {
            return switch (node.getOpType()) {
                case "Constant" -> constant(node);
                case "If" -> ifBranch(scope, node, output);
                case "Split" -> split(scope, node, output);
                default -> output == 0 ? singleOutput(scope, node) : null;
            };
        } catch (IllegalArgumentException | ArithmeticException | IndexOutOfBoundsException e) {
            throw new BadFileException(file, describe(node) + ": " + e.getMessage(), e);
        }
    }

    private ConstValue singleOutput(Scope scope, Onnx.NodeProto node) {
        String op = node.getOpType();
        if (!SINGLE_OUTPUT_OPS.contains(op)) {
            return null;
        }
        List<ConstValue> in = new ArrayList<>();
        for (String name : node.getInputList()) {
            ConstValue v = scope.value(name);
            if (v == null && !name.isEmpty()) {
                return null;
            }
            in.add(v);
        }
        if (in.isEmpty() || in.get(0) == null) {
            return null;
        }
        ConstValue x = in.get(0);
        return switch (op) {
            case "Identity" -> x;
            case "Cast" -> x.cast(OnnxTensors.isReal((int) intAttribute(node, "to", OnnxTensors.FLOAT)));
            case "Transpose" -> x.transpose(intsAttribute(node, "perm"));
            case "Reshape" -> x.reshaped(reshapeDims(x, input(in, 1, node, "shape").asLongs()));
            case "Squeeze" -> x.reshaped(squeezeDims(x, axes(node, in)));
            case "Unsqueeze" -> x.reshaped(unsqueezeDims(x, required(axes(node, in), node, "axes")));
            case "Concat" -> ConstValue.concat(in, intAttribute(node, "axis", Long.MIN_VALUE));
            case "Slice" -> slice(node, in, x);
            case "Gather" -> x.gather(input(in, 1, node, "indices"), intAttribute(node, "axis", 0));
            default -> null;
        };
    }

    private static ConstValue slice(Onnx.NodeProto node, List<ConstValue> in, ConstValue x) {
        if (hasAttribute(node, "starts")) {
            // opset 1-9: starts, ends and axes are attributes and there are no steps
            return x.slice(intsAttribute(node, "starts"), required(intsAttribute(node, "ends"), node, "ends"),
                    intsAttribute(node, "axes"), null);
        }
        long[] starts = input(in, 1, node, "starts").asLongs();
        long[] ends = input(in, 2, node, "ends").asLongs();
        long[] axes = in.size() > 3 && in.get(3) != null ? in.get(3).asLongs() : null;
        long[] steps = in.size() > 4 && in.get(4) != null ? in.get(4).asLongs() : null;
        return x.slice(starts, ends, axes, steps);
    }

    /** Split (opset 1-18): sizes from the {@code split} attribute or input, else equal parts per output. */
    private ConstValue split(Scope scope, Onnx.NodeProto node, int output) {
        ConstValue x = scope.value(node.getInput(0));
        if (x == null) {
            return null;
        }
        int axis = ConstValue.axis(intAttribute(node, "axis", 0), x.rank());
        long[] sizes = intsAttribute(node, "split");
        if (sizes == null && node.getInputCount() > 1 && !node.getInput(1).isEmpty()) {
            ConstValue s = scope.value(node.getInput(1));
            if (s == null) {
                return null;
            }
            sizes = s.asLongs();
        }
        int parts = node.getOutputCount();
        int length = x.dims()[axis];
        if (sizes == null) {
            // equal parts; opset 18 lets the last one be smaller
            long each = (length + parts - 1) / parts;
            sizes = new long[parts];
            for (int k = 0; k < parts; k++) {
                sizes[k] = Math.max(0, Math.min(each, length - each * k));
            }
        }
        if (sizes.length != parts) {
            throw new IllegalArgumentException("split has " + sizes.length + " sizes for " + parts + " outputs");
        }
        long start = 0;
        long sum = 0;
        for (int k = 0; k < parts; k++) {
            if (sizes[k] < 0) {
                throw new IllegalArgumentException("negative split size " + sizes[k]);
            }
            if (k < output) {
                start += sizes[k];
            }
            sum += sizes[k];
        }
        if (sum != length) {
            throw new IllegalArgumentException("split sizes add up to " + sum + ", axis " + axis + " has " + length);
        }
        return x.slice(new long[] {start}, new long[] {start + sizes[output]}, new long[] {axis}, null);
    }

    /** If with a constant condition is a constant choice: the taken branch's output in the branch's own scope. */
    private ConstValue ifBranch(Scope scope, Onnx.NodeProto node, int output) {
        ConstValue condition = scope.value(node.getInput(0));
        if (condition == null) {
            return null;
        }
        if (condition.size() != 1) {
            throw new IllegalArgumentException("condition must hold one value, found " + condition);
        }
        boolean taken = condition.isReal() ? condition.floats()[0] != 0 : condition.longs()[0] != 0;
        Onnx.GraphProto branch = graphAttribute(node, taken ? "then_branch" : "else_branch");
        if (branch == null) {
            throw new IllegalArgumentException("missing " + (taken ? "then_branch" : "else_branch"));
        }
        if (output >= branch.getOutputCount()) {
            throw new IllegalArgumentException("branch has " + branch.getOutputCount() + " outputs, node output "
                    + output + " was asked for");
        }
        return scope.child(branch).value(branch.getOutput(output).getName());
    }

    private ConstValue constant(Onnx.NodeProto node) {
        for (Onnx.AttributeProto a : node.getAttributeList()) {
            switch (a.getName()) {
                case "value" -> {
                    return fromTensor(a.getT());
                }
                case "value_float" -> {
                    return ConstValue.ofFloats(new int[0], new float[] {a.getF()});
                }
                case "value_floats" -> {
                    float[] v = new float[a.getFloatsCount()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = a.getFloats(i);
                    }
                    return ConstValue.ofFloats(new int[] {v.length}, v);
                }
                case "value_int" -> {
                    return ConstValue.ofLongs(new int[0], new long[] {a.getI()});
                }
                case "value_ints" -> {
                    long[] v = a.getIntsList().stream().mapToLong(Long::longValue).toArray();
                    return ConstValue.ofLongs(new int[] {v.length}, v);
                }
                default -> {
                    // sparse_value and strings are not weights Lacuna reads
                }
            }
        }
        return null;
    }

    private static long[] axes(Onnx.NodeProto node, List<ConstValue> in) {
        long[] attr = intsAttribute(node, "axes");
        if (attr != null) {
            return attr;
        }
        return in.size() > 1 && in.get(1) != null ? in.get(1).asLongs() : null;
    }

    private static int[] squeezeDims(ConstValue x, long[] axes) {
        int r = x.rank();
        boolean[] drop = new boolean[r];
        for (int k = 0; k < r; k++) {
            drop[k] = axes == null && x.dims()[k] == 1;
        }
        if (axes != null) {
            for (long a : axes) {
                int k = ConstValue.axis(a, r);
                if (x.dims()[k] != 1) {
                    throw new IllegalArgumentException("cannot squeeze axis " + k + " of size " + x.dims()[k]);
                }
                drop[k] = true;
            }
        }
        List<Integer> kept = new ArrayList<>();
        for (int k = 0; k < r; k++) {
            if (!drop[k]) {
                kept.add(x.dims()[k]);
            }
        }
        return kept.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int[] unsqueezeDims(ConstValue x, long[] axes) {
        int r = x.rank() + axes.length;
        boolean[] inserted = new boolean[r];
        for (long a : axes) {
            int k = ConstValue.axis(a, r);
            if (inserted[k]) {
                throw new IllegalArgumentException("axis " + k + " given twice");
            }
            inserted[k] = true;
        }
        int[] out = new int[r];
        int next = 0;
        for (int k = 0; k < r; k++) {
            out[k] = inserted[k] ? 1 : x.dims()[next++];
        }
        return out;
    }

    /** Reshape's target: 0 copies the input's dimension (allowzero = 0), one -1 takes what is left. */
    private static int[] reshapeDims(ConstValue x, long[] shape) {
        int[] out = new int[shape.length];
        int inferred = -1;
        long known = 1;
        for (int k = 0; k < shape.length; k++) {
            long d = shape[k];
            if (d == 0) {
                if (k >= x.rank()) {
                    throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape)
                            + " copies a dimension the input does not have");
                }
                d = x.dims()[k];
            }
            if (d == -1) {
                if (inferred >= 0) {
                    throw new IllegalArgumentException("shape has more than one -1");
                }
                inferred = k;
                continue;
            }
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("invalid dimension " + d);
            }
            out[k] = (int) d;
            known = Math.multiplyExact(known, d);
        }
        if (inferred >= 0) {
            if (known == 0 || x.size() % known != 0) {
                throw new IllegalArgumentException("cannot infer -1 for " + x.size() + " values");
            }
            out[inferred] = (int) (x.size() / known);
        } else if (known != x.size()) {
            throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " does not hold "
                    + x.size() + " values");
        }
        return out;
    }

    private static ConstValue input(List<ConstValue> in, int index, Onnx.NodeProto node, String what) {
        if (index >= in.size() || in.get(index) == null) {
            throw new IllegalArgumentException("missing input " + what);
        }
        return in.get(index);
    }

    private static <T> T required(T value, Onnx.NodeProto node, String what) {
        if (value == null) {
            throw new IllegalArgumentException("missing " + what);
        }
        return value;
    }

    static boolean hasAttribute(Onnx.NodeProto node, String name) {
        return attribute(node, name) != null;
    }

    static Onnx.AttributeProto attribute(Onnx.NodeProto node, String name) {
        for (Onnx.AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }

    /** An integer attribute; {@code Long.MIN_VALUE} as the default makes it required. */
    static long intAttribute(Onnx.NodeProto node, String name, long fallback) {
        Onnx.AttributeProto a = attribute(node, name);
        if (a == null) {
            if (fallback == Long.MIN_VALUE) {
                throw new IllegalArgumentException("missing attribute " + name);
            }
            return fallback;
        }
        return a.getI();
    }

    static long[] intsAttribute(Onnx.NodeProto node, String name) {
        Onnx.AttributeProto a = attribute(node, name);
        return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    static Onnx.GraphProto graphAttribute(Onnx.NodeProto node, String name) {
        Onnx.AttributeProto a = attribute(node, name);
        return a == null || !a.hasG() ? null : a.getG();
    }

    /** "LSTM node 'name'" (or its first output when unnamed), for messages. */
    static String describe(Onnx.NodeProtoOrBuilder node) {
        if (!node.getName().isEmpty()) {
            return node.getOpType() + " node '" + node.getName() + "'";
        }
        return node.getOpType() + " node " + (node.getOutputCount() > 0 ? "producing '" + node.getOutput(0) + "'"
                : "(unnamed)");
    }
}
