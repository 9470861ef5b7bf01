package dev.lacuna.onnx;

import dev.lacuna.onnx.proto.Onnx;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Tells weights from other constants by how a graph uses them. A constant is a weight when its value reaches a
 * matrix operand (MatMul, Gemm A/B, Conv and ConvTranspose W, Einsum, RNN/GRU/LSTM W and R) and an embedding when it
 * reaches the data operand of a Gather, possibly through ops that only move or select values (Identity, Cast,
 * Transpose, Reshape, Squeeze, Unsqueeze, Flatten, Slice, Split, Concat, as unfolded PyTorch exports wrap their
 * weights) and through If/Loop/Scan branch outputs into the enclosing graph. Everything else (biases, including the
 * rank-2 B of recurrent nodes, initial states, shapes, normalisation scales) is not a weight.
 *
 * <p>Graphs are identified by a key: "" for the main graph, and for a subgraph the key of its parent plus
 * {@link #subgraphKey}.
 */
final class WeightUses {
    enum Role { WEIGHT, EMBEDDING, OTHER }

    private static final Set<String> MOVES_VALUES = Set.of("Identity", "Cast", "Transpose", "Reshape", "Squeeze",
            "Unsqueeze", "Flatten", "Slice", "Split", "Concat");

    private record Use(Onnx.NodeProto node, int input, Graph graph) {
    }

    private static final class Graph {
        final Graph parent;
        final Onnx.NodeProto owner;
        final Map<String, List<Use>> uses = new HashMap<>();
        final Map<String, Integer> outputs = new HashMap<>();
        final List<Graph> children = new ArrayList<>();
        final Set<String> initializers = new HashSet<>();
        final Map<String, Onnx.NodeProto> producers = new HashMap<>();
        final Map<String, Boolean> isStatic = new HashMap<>();

        Graph(Graph parent, Onnx.NodeProto owner) {
            this.parent = parent;
            this.owner = owner;
        }
    }

    private final Map<String, Graph> graphs = new HashMap<>();

    WeightUses(Onnx.GraphProto main) {
        index(main, "", null, null);
    }

    /** The key of a subgraph held by attribute {@code attribute} (index {@code m} of a list, or -1) of a node. */
    static String subgraphKey(String parentKey, Onnx.NodeProtoOrBuilder node, String attribute, int m) {
        return parentKey + ConstantFolder.describe(node) + "/" + attribute + (m >= 0 ? "[" + m + "]" : "") + "/";
    }

    private void index(Onnx.GraphProto graph, String key, Graph parent, Onnx.NodeProto owner) {
        Graph g = new Graph(parent, owner);
        graphs.put(key, g);
        if (parent != null) {
            parent.children.add(g);
        }
        for (int k = 0; k < graph.getOutputCount(); k++) {
            g.outputs.putIfAbsent(graph.getOutput(k).getName(), k);
        }
        for (Onnx.TensorProto t : graph.getInitializerList()) {
            g.initializers.add(t.getName());
        }
        for (Onnx.NodeProto node : graph.getNodeList()) {
            for (String out : node.getOutputList()) {
                g.producers.put(out, node);
            }
            for (int i = 0; i < node.getInputCount(); i++) {
                g.uses.computeIfAbsent(node.getInput(i), n -> new ArrayList<>()).add(new Use(node, i, g));
            }
            for (Onnx.AttributeProto a : node.getAttributeList()) {
                if (a.hasG()) {
                    index(a.getG(), subgraphKey(key, node, a.getName(), -1), g, node);
                }
                for (int m = 0; m < a.getGraphsCount(); m++) {
                    index(a.getGraphs(m), subgraphKey(key, node, a.getName(), m), g, node);
                }
            }
        }
    }

    /** The role of the value named {@code name} defined in graph {@code graphKey}. */
    Role role(String graphKey, String name) {
        Graph start = graphs.get(graphKey);
        if (start == null || name == null || name.isEmpty()) {
            return Role.OTHER;
        }
        boolean weight = false;
        boolean embedding = false;
        record Value(Graph graph, String name) {
        }
        Deque<Value> pending = new ArrayDeque<>(List.of(new Value(start, name)));
        Set<Value> seen = new HashSet<>();
        while (!pending.isEmpty()) {
            Value v = pending.pop();
            if (!seen.add(v)) {
                continue;
            }
            for (Use use : usesInScope(v.graph, v.name)) {
                String op = use.node.getOpType();
                int i = use.input;
                if (op.equals("Gather") && i == 0) {
                    embedding = true;
                } else if (isMatrixOperand(op, i)) {
                    weight = true;
                } else if (MOVES_VALUES.contains(op) && (!op.equals("Concat") || allStatic(use.graph, use.node))) {
                    // a Concat that joins the value with run-time data (the zero padding of a shifted sequence)
                    // makes data, not a weight
                    for (String out : use.node.getOutputList()) {
                        pending.add(new Value(use.graph, out));
                    }
                }
            }
            Integer output = v.graph.outputs.get(v.name);
            if (output != null && v.graph.owner != null) {
                String outer = ownerOutput(v.graph.owner, output);
                if (outer != null) {
                    pending.add(new Value(v.graph.parent, outer));
                }
            }
        }
        return embedding ? Role.EMBEDDING : weight ? Role.WEIGHT : Role.OTHER;
    }

    private static boolean allStatic(Graph graph, Onnx.NodeProto node) {
        for (String in : node.getInputList()) {
            if (!in.isEmpty() && !isStatic(graph, in, 0)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a value is fixed at load time as far as its producers show: an initializer, a Constant's output, or
     * the output of a value-moving op whose inputs are all static. Names not defined in a graph are looked up in the
     * enclosing ones; graph inputs are not static.
     */
    private static boolean isStatic(Graph graph, String name, int depth) {
        Boolean known = graph.isStatic.get(name);
        if (known != null) {
            return known;
        }
        boolean result;
        Onnx.NodeProto producer = graph.producers.get(name);
        if (graph.initializers.contains(name)) {
            result = true;
        } else if (producer != null) {
            // the depth bound stops cycles and absurd chains; such a value is treated as run-time data
            graph.isStatic.put(name, false);
            result = depth < 1000 && (producer.getOpType().equals("Constant")
                    || (MOVES_VALUES.contains(producer.getOpType())
                    && producer.getInputList().stream().allMatch(in -> in.isEmpty()
                    || isStatic(graph, in, depth + 1))));
        } else {
            result = graph.parent != null && isStatic(graph.parent, name, depth + 1);
        }
        graph.isStatic.put(name, result);
        return result;
    }

    /** Uses in the defining graph and in its subgraphs, which may name outer values directly. */
    private static List<Use> usesInScope(Graph graph, String name) {
        List<Use> out = new ArrayList<>(graph.uses.getOrDefault(name, List.of()));
        for (Graph child : graph.children) {
            out.addAll(usesInScope(child, name));
        }
        return out;
    }

    private static boolean isMatrixOperand(String op, int input) {
        return switch (op) {
            case "MatMul", "Einsum" -> true;
            case "Gemm" -> input <= 1;
            case "Conv", "ConvTranspose" -> input == 1;
            case "RNN", "GRU", "LSTM" -> input == 1 || input == 2;
            default -> false;
        };
    }

    /**
     * The owner's output fed by the subgraph's {@code k}-th output: the same position for If and Scan; for Loop the
     * body's first output is the continue condition, so output k feeds the loop's output k − 1.
     */
    private static String ownerOutput(Onnx.NodeProto owner, int k) {
        int index = owner.getOpType().equals("Loop") ? k - 1 : k;
        return index >= 0 && index < owner.getOutputCount() ? owner.getOutput(index) : null;
    }
}
