package dev.lacuna.onnx;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.CellType;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads an ONNX character model into a Lacuna {@link Model}.
 *
 * <p>Accepted graphs have the structure of {@link Architecture}: an embedding (a Gather on a constant [V, E] table)
 * or a one-hot input (anything else feeding the first recurrent node, whose input width must then be V), a stack of
 * RNN, GRU or LSTM nodes of one kind, and a linear head (MatMul by a constant [F, V] matrix, optionally followed by
 * an Add of a constant [V] bias, or Gemm) somewhere downstream of the top recurrent node. Layers are ordered by
 * following the data flow from one node's Y through Transpose, Reshape, Squeeze, Unsqueeze, Identity and Cast into
 * the next node's X; weights are found through the nodes' inputs (names do not matter), whether they are
 * initializers, Constant nodes, outputs of If nodes with a constant condition, external data, or computed from those
 * by the Slice/Concat/Unsqueeze/Transpose chains of an unfolded PyTorch export (see {@link ConstantFolder}).
 *
 * <p>ONNX files carry no vocabulary. The metadata entry {@value #VOCABULARY_KEY} (a JSON array of ascending code
 * points, as Lacuna's export writes it) supplies one; otherwise the model gets the placeholder vocabulary of code
 * points 0..V−1 and the metadata entry {@value #PLACEHOLDER_KEY} = {@code true}. An entry {@value #ARCHITECTURE_KEY}
 * (the JSON object of Lacuna checkpoints) is checked against the architecture read from the graph.
 */
public final class OnnxImporter {
    /** Metadata key holding the vocabulary as a JSON array of ascending code points. */
    public static final String VOCABULARY_KEY = ModelCheckpoint.VOCABULARY_KEY;
    /** Metadata key holding the architecture as a JSON object (cell, vocab_size, embed_dim, hidden_size, ...). */
    public static final String ARCHITECTURE_KEY = ModelCheckpoint.ARCHITECTURE_KEY;
    /** Set to {@code true} in the imported model's metadata when the vocabulary is the placeholder 0..V−1. */
    public static final String PLACEHOLDER_KEY = "lacuna.vocabulary_placeholder";
    /** Set in the imported model's metadata: the format it was read from. */
    public static final String SOURCE_KEY = "lacuna.source";

    /** Ops that pass a layer's sequence on unchanged in content (layout and rank only). */
    private static final Set<String> PASS_THROUGH = Set.of("Transpose", "Reshape", "Squeeze", "Unsqueeze",
            "Identity", "Cast");
    private static final Set<String> RECURRENT_OPS = Set.of("RNN", "GRU", "LSTM");
    private static final ObjectMapper JSON = new ObjectMapper();

    private OnnxImporter() {
    }

    /**
     * Reads an ONNX file into a model.
     *
     * @throws BadFileException naming the file (and the node or tensor) when it is not a readable ONNX model, when
     *                          its graph is not a character model Lacuna's architecture describes, or when a recurrent
     *                          node uses a feature Lacuna does not model (peepholes, clip, non-default activations,
     *                          {@code layout=1}, {@code direction=reverse}, {@code input_forget})
     */
    public static Model read(Path file) {
        return fromProto(OnnxFiles.read(file), file);
    }

    /**
     * Converts a parsed model; {@code file} is named in errors and locates external data.
     *
     * @see #read(Path)
     */
    public static Model fromProto(Onnx.ModelProto model, Path file) {
        // Lacuna's own sparse exports (sparse_initializer, or values + indices rebuilt by ScatterElements) hold
        // their weights in a form the structure matcher does not read; densify them first.
        Onnx.ModelProto dense = model.toBuilder().setGraph(SparseDensifier.densify(model.getGraph(), file)).build();
        return new Import(dense, file).run();
    }

    /**
     * One recurrent node, checked, with its weights already converted to Lacuna's tensors (converting each layer as
     * it is found keeps only one layer's ONNX-layout arrays alive at a time).
     */
    private record Layer(Onnx.NodeProto node, CellType cell, int directions, int hidden, int inputSize,
                         boolean linearBeforeReset, RnnActivation activation, Map<String, Tensor> tensors) {
    }

    private static final class Import {
        private final Onnx.ModelProto model;
        private final Path file;
        private final Onnx.GraphProto graph;
        private final ConstantFolder.Scope scope;
        private final Map<String, List<Onnx.NodeProto>> consumers = new HashMap<>();

        Import(Onnx.ModelProto model, Path file) {
            this.model = model;
            this.file = file;
            this.graph = model.getGraph();
            this.scope = new ConstantFolder(graph, file).root();
            for (Onnx.NodeProto node : graph.getNodeList()) {
                for (String in : node.getInputList()) {
                    consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(node);
                }
            }
        }

        Model run() {
            List<Layer> layers = orderedLayers();
            Layer first = layers.get(0);
            Layer top = layers.get(layers.size() - 1);
            ConstValue embedding = embedding(first);
            Head head = head(top);
            int vocab = head.weight.dims()[0];
            int features = head.weight.dims()[1];
            if (features != top.hidden * top.directions) {
                throw bad("the head " + ConstantFolder.describe(head.node) + " reads " + features
                        + " features, but the top recurrent layer outputs " + top.hidden * top.directions);
            }
            int embedDim = 0;
            if (embedding != null) {
                if (embedding.dims()[0] != vocab) {
                    throw bad("the embedding table has " + embedding.dims()[0] + " rows but the head predicts "
                            + vocab + " classes");
                }
                embedDim = embedding.dims()[1];
            } else if (first.inputSize != vocab) {
                throw bad(ConstantFolder.describe(first.node) + " reads " + first.inputSize + " features, which "
                        + "is neither an embedding (no Gather on a constant table feeds it) nor a one-hot input "
                        + "over the head's " + vocab + " classes");
            }
            // linear_before_reset means nothing outside GRU; Lacuna's canonical value there is PyTorch's (true)
            boolean linearBeforeReset = first.cell != CellType.GRU || first.linearBeforeReset;
            Architecture arch;
            try {
                arch = new Architecture(first.cell, vocab, embedDim, first.hidden, layers.size(),
                        first.directions == 2, first.activation, linearBeforeReset);
            } catch (InvalidOptionException e) {
                throw bad("the graph does not describe a valid architecture: " + e.getMessage());
            }
            checkHint(arch);

            Map<String, Tensor> tensors = new LinkedHashMap<>();
            if (embedding != null) {
                // copied: a value computed by the folder may share its array with other folded values
                tensors.put(Architecture.EMBEDDING, new Tensor(Architecture.EMBEDDING, embedding.dims(),
                        embedding.floats().clone()));
            }
            for (Layer layer : layers) {
                tensors.putAll(layer.tensors);
            }
            tensors.put(Architecture.HEAD_WEIGHT, new Tensor(Architecture.HEAD_WEIGHT, new int[] {vocab, features},
                    head.weight.floats()));
            tensors.put(Architecture.HEAD_BIAS, new Tensor(Architecture.HEAD_BIAS, new int[] {vocab},
                    head.bias == null ? new float[vocab] : head.bias.floats().clone()));

            Map<String, String> meta = new LinkedHashMap<>();
            for (Onnx.StringStringEntryProto e : model.getMetadataPropsList()) {
                meta.put(e.getKey(), e.getValue());
            }
            String vocabularyText = meta.remove(VOCABULARY_KEY);
            meta.remove(ARCHITECTURE_KEY);
            Vocabulary vocabulary;
            if (vocabularyText != null) {
                // a placeholder flag stored beside it (a re-exported import) stays: the stored list is that placeholder
                vocabulary = parseVocabulary(vocabularyText, vocab);
            } else {
                int[] codePoints = new int[vocab];
                for (int i = 0; i < vocab; i++) {
                    codePoints[i] = i;
                }
                vocabulary = new Vocabulary(codePoints);
                meta.put(PLACEHOLDER_KEY, "true");
            }
            Model result;
            try {
                result = new Model(arch, vocabulary, tensors);
            } catch (IllegalArgumentException e) {
                throw bad(e.getMessage());
            }
            result.metadata().putAll(meta);
            result.metadata().put(SOURCE_KEY, "onnx");
            return result;
        }

        /**
         * W (input side) or R (recurrent side) of each direction, gate blocks moved to Lacuna's order. Each block is
         * copied once, from the file's bytes or the decoded value straight to its place in Lacuna's array.
         */
        private static void addMatrices(Map<String, Tensor> tensors, int l, CellType cell, int directions,
                                        int hidden, int columns, Matrix values, boolean inputSide) {
            int gates = cell.gates();
            int block = hidden * columns;
            for (int d = 0; d < directions; d++) {
                String name = inputSide ? Architecture.weightIh(l, d == 1) : Architecture.weightHh(l, d == 1);
                float[] lacuna = new float[gates * block];
                for (int k = 0; k < gates; k++) {
                    values.copy((d * gates + k) * block, lacuna, OnnxGateOrder.lacunaBlockAt(cell, k) * block, block);
                }
                put(tensors, name, new int[] {gates * hidden, columns}, lacuna);
            }
        }

        /** ONNX B holds [Wb, Rb] per direction: the input-side bias, then the recurrent-side bias. */
        private static void addBiases(Map<String, Tensor> tensors, int l, CellType cell, int directions, int hidden,
                                      float[] b) {
            int g = cell.gates() * hidden;
            for (int d = 0; d < directions; d++) {
                boolean reverse = d == 1;
                float[] wb = b == null ? new float[g] : Arrays.copyOfRange(b, 2 * d * g, (2 * d + 1) * g);
                float[] rb = b == null ? new float[g] : Arrays.copyOfRange(b, (2 * d + 1) * g, (2 * d + 2) * g);
                put(tensors, Architecture.biasIh(l, reverse), new int[] {g}, OnnxGateOrder.fromOnnx(cell, wb, hidden, 1));
                put(tensors, Architecture.biasHh(l, reverse), new int[] {g}, OnnxGateOrder.fromOnnx(cell, rb, hidden, 1));
            }
        }

        private static void put(Map<String, Tensor> tensors, String name, int[] shape, float[] data) {
            tensors.put(name, new Tensor(name, shape, data));
        }

        /** The recurrent nodes bottom to top, found by following each node's X back to the node below. */
        private List<Layer> orderedLayers() {
            List<Onnx.NodeProto> nodes = new ArrayList<>();
            for (Onnx.NodeProto node : graph.getNodeList()) {
                if (isDefaultDomain(node) && RECURRENT_OPS.contains(node.getOpType())) {
                    if (node.getInputCount() < 3 || node.getOutputCount() < 1 || node.getOutput(0).isEmpty()) {
                        throw bad(ConstantFolder.describe(node) + " needs inputs X, W, R and the output Y");
                    }
                    nodes.add(node);
                }
            }
            if (nodes.isEmpty()) {
                throw bad("the main graph has no RNN, GRU or LSTM node, so it is not a recurrent character model "
                        + "Lacuna can import; `lacuna prune --method oneshot` prunes the weights of any ONNX model");
            }
            Map<Onnx.NodeProto, Onnx.NodeProto> above = new HashMap<>();
            Onnx.NodeProto bottom = null;
            for (Onnx.NodeProto node : nodes) {
                Onnx.NodeProto below = recurrentSource(node.getInput(0));
                if (below == null) {
                    if (bottom != null) {
                        throw bad("the recurrent nodes do not form one stack: " + ConstantFolder.describe(bottom)
                                + " and " + ConstantFolder.describe(node) + " both read the model's input");
                    }
                    bottom = node;
                } else if (above.put(below, node) != null) {
                    throw bad("the recurrent nodes do not form one stack: two nodes read the output of "
                            + ConstantFolder.describe(below));
                }
            }
            if (bottom == null) {
                throw bad("the recurrent nodes feed each other in a cycle");
            }
            List<Layer> layers = new ArrayList<>();
            for (Onnx.NodeProto n = bottom; n != null && layers.size() < nodes.size(); n = above.get(n)) {
                layers.add(layer(n, layers.size()));
            }
            if (layers.size() != nodes.size()) {
                throw bad("the recurrent nodes do not form one stack");
            }
            Layer first = layers.get(0);
            for (int l = 1; l < layers.size(); l++) {
                Layer layer = layers.get(l);
                String node = ConstantFolder.describe(layer.node);
                if (layer.cell != first.cell || layer.hidden != first.hidden || layer.directions != first.directions
                        || layer.activation != first.activation || layer.linearBeforeReset != first.linearBeforeReset) {
                    throw bad(node + " differs from the first recurrent layer in cell, hidden size, direction, "
                            + "activation or linear_before_reset; Lacuna's stacks are uniform");
                }
                if (layer.inputSize != first.hidden * first.directions) {
                    throw bad(node + " reads " + layer.inputSize + " features, but the layer below outputs "
                            + first.hidden * first.directions);
                }
            }
            return layers;
        }

        /** The recurrent node whose Y reaches {@code name} through layout-only ops, or null. */
        private Onnx.NodeProto recurrentSource(String name) {
            String current = name;
            for (int steps = 0; steps <= graph.getNodeCount(); steps++) {
                Onnx.NodeProto node = scope.producer(current);
                if (node == null || !isDefaultDomain(node)) {
                    return null;
                }
                if (RECURRENT_OPS.contains(node.getOpType())) {
                    return node.getOutput(0).equals(current) ? node : null;
                }
                if (!PASS_THROUGH.contains(node.getOpType()) || node.getInputCount() == 0) {
                    return null;
                }
                current = node.getInput(0);
            }
            return null;
        }

        private Layer layer(Onnx.NodeProto node, int index) {
            String where = ConstantFolder.describe(node);
            CellType cell = CellType.valueOf(node.getOpType());
            int directions = 1;
            long hiddenAttribute = -1;
            boolean linearBeforeReset = false;
            List<String> activations = List.of();
            for (Onnx.AttributeProto a : node.getAttributeList()) {
                switch (a.getName()) {
                    case "direction" -> {
                        String direction = a.getS().toStringUtf8();
                        if (direction.equals("bidirectional")) {
                            directions = 2;
                        } else if (!direction.equals("forward")) {
                            throw bad(where + ": direction '" + direction + "' is not supported (Lacuna layers "
                                    + "run forward or bidirectional)");
                        }
                    }
                    case "hidden_size" -> hiddenAttribute = a.getI();
                    case "linear_before_reset" -> linearBeforeReset = a.getI() != 0;
                    case "activations" -> activations = a.getStringsList().stream().map(s -> s.toStringUtf8())
                            .toList();
                    case "layout" -> {
                        if (a.getI() != 0) {
                            throw bad(where + ": layout=" + a.getI() + " (batch-major) is not supported; export "
                                    + "with layout 0 and Transpose nodes, as PyTorch does");
                        }
                    }
                    case "input_forget" -> {
                        if (a.getI() != 0) {
                            throw bad(where + ": input_forget=1 (coupled input and forget gates) is not supported");
                        }
                    }
                    case "clip" -> throw bad(where + ": cell clipping (attribute clip) is not supported");
                    case "activation_alpha", "activation_beta" -> throw bad(where + ": attribute " + a.getName()
                            + " (parametrised activations) is not supported");
                    default -> throw bad(where + ": unknown attribute '" + a.getName() + "'");
                }
            }
            if (cell != CellType.GRU && linearBeforeReset) {
                throw bad(where + ": linear_before_reset applies to GRU only");
            }
            RnnActivation activation = activation(where, cell, directions, activations);
            if (cell == CellType.LSTM && node.getInputCount() > 7 && !node.getInput(7).isEmpty()) {
                throw bad(where + ": peephole weights (input P) are not supported");
            }
            for (int k = 5; k < Math.min(node.getInputCount(), 7); k++) {
                requireZeroIfConstant(where, node.getInput(k), k == 5 ? "initial_h" : "initial_c");
            }
            // One matrix decoded at a time, converted, then dropped: peak heap stays near the size of the weights.
            int gates = cell.gates();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Matrix r = matrix(node, 2, "R");
            if (r.rank() != 3 || r.dims()[0] != directions || r.dims()[2] < 1
                    || r.dims()[1] != (long) gates * r.dims()[2]) {
                throw bad(where + ": R has shape " + Arrays.toString(r.dims()) + ", expected [" + directions + ", "
                        + gates + "·hidden, hidden]");
            }
            int hidden = r.dims()[2];
            if (hiddenAttribute >= 0 && hiddenAttribute != hidden) {
                throw bad(where + ": hidden_size is " + hiddenAttribute + " but R has shape "
                        + Arrays.toString(r.dims()));
            }
            addMatrices(tensors, index, cell, directions, hidden, hidden, r, false);
            r = null;
            Matrix w = matrix(node, 1, "W");
            if (w.rank() != 3 || w.dims()[0] != directions || w.dims()[1] != gates * hidden || w.dims()[2] < 1) {
                throw bad(where + ": W has shape " + Arrays.toString(w.dims()) + ", expected [" + directions + ", "
                        + gates * hidden + ", input size] for hidden size " + hidden);
            }
            int inputSize = w.dims()[2];
            addMatrices(tensors, index, cell, directions, hidden, inputSize, w, true);
            w = null;
            ConstValue b = node.getInputCount() > 3 && !node.getInput(3).isEmpty() ? weight(node, 3, "B") : null;
            if (b != null && (b.rank() != 2 || b.dims()[0] != directions || b.dims()[1] != 2 * gates * hidden)) {
                throw bad(where + ": B has shape " + Arrays.toString(b.dims()) + ", expected [" + directions + ", "
                        + 2 * gates * hidden + "]");
            }
            addBiases(tensors, index, cell, directions, hidden, b == null ? null : b.floats());
            return new Layer(node, cell, directions, hidden, inputSize, linearBeforeReset, activation, tensors);
        }

        /** Only the activations the ONNX spec defaults to are modelled (and Relu for a vanilla RNN). */
        private RnnActivation activation(String where, CellType cell, int directions, List<String> given) {
            if (given.isEmpty()) {
                return RnnActivation.TANH;
            }
            List<String> perDirection = switch (cell) {
                case LSTM -> List.of("sigmoid", "tanh", "tanh");
                case GRU -> List.of("sigmoid", "tanh");
                case RNN -> List.of("tanh");
            };
            int n = perDirection.size();
            if (given.size() != n * directions) {
                throw bad(where + ": expected " + n * directions + " activations, found " + given);
            }
            List<String> lower = given.stream().map(s -> s.toLowerCase(Locale.ROOT)).toList();
            if (cell == CellType.RNN && lower.stream().allMatch("relu"::equals)) {
                return RnnActivation.RELU;
            }
            for (int d = 0; d < directions; d++) {
                if (!lower.subList(d * n, (d + 1) * n).equals(perDirection)) {
                    throw bad(where + ": activations " + given + " are not supported (only the defaults "
                            + perDirection + (cell == CellType.RNN ? " or Relu" : "") + ")");
                }
            }
            return RnnActivation.TANH;
        }

        /** A learned (constant, non-zero) initial state has no place in Lacuna's architecture. */
        private void requireZeroIfConstant(String where, String name, String what) {
            ConstValue v = scope.value(name);
            if (v == null) {
                return;
            }
            float[] values = v.isReal() ? v.floats() : v.cast(true).floats();
            for (float x : values) {
                if (x != 0) {
                    throw bad(where + ": " + what + " is a constant non-zero state; Lacuna models start from zero");
                }
            }
        }

        /**
         * A recurrent node's W or R. A float32 initializer with {@code raw_data} (or external data), what every
         * exporter writes, is not decoded here: its bytes are read block by block into Lacuna's arrays, so a matrix
         * is held once, not once in ONNX's layout and again in Lacuna's (issue #3: peak heap ≤ 1.5 × the file).
         */
        private Matrix matrix(Onnx.NodeProto node, int input, String what) {
            Onnx.TensorProto t = node.getInputCount() > input ? scope.initializer(node.getInput(input)) : null;
            if (t != null && t.getDataType() == OnnxTensors.FLOAT) {
                int[] dims = OnnxTensors.shape(t, file);
                ByteBuffer raw = OnnxTensors.rawBytes(t, file, OnnxTensors.elementCount(dims));
                if (raw != null) {
                    return new Matrix(dims, raw.asFloatBuffer(), null);
                }
            }
            ConstValue v = weight(node, input, what);
            return new Matrix(v.dims(), null, v.floats());
        }

        private ConstValue weight(Onnx.NodeProto node, int input, String what) {
            if (node.getInputCount() <= input || node.getInput(input).isEmpty()) {
                throw bad(ConstantFolder.describe(node) + ": input " + what + " is missing");
            }
            ConstValue v = scope.value(node.getInput(input));
            if (v == null || !v.isReal()) {
                throw bad(ConstantFolder.describe(node) + ": input " + what + " ('" + node.getInput(input)
                        + "') is not a constant float tensor; Lacuna needs the weights inside the file");
            }
            return v;
        }

        /** The [V, E] table of a Gather that feeds the first layer (through layout-only ops), or null. */
        private ConstValue embedding(Layer first) {
            Onnx.NodeProto node = scope.producer(first.node.getInput(0));
            int steps = 0;
            while (node != null && PASS_THROUGH.contains(node.getOpType()) && node.getInputCount() > 0
                    && steps++ < graph.getNodeCount()) {
                node = scope.producer(node.getInput(0));
            }
            if (node == null || !node.getOpType().equals("Gather") || !isDefaultDomain(node)
                    || node.getInputCount() != 2) {
                return null;
            }
            ConstValue table = scope.value(node.getInput(0));
            if (table == null || !table.isReal() || table.rank() != 2
                    || ConstantFolder.intAttribute(node, "axis", 0) != 0) {
                return null;
            }
            if (table.dims()[1] != first.inputSize) {
                throw bad("the embedding table of " + ConstantFolder.describe(node) + " has width "
                        + table.dims()[1] + " but " + ConstantFolder.describe(first.node) + " reads "
                        + first.inputSize + " features");
            }
            return table;
        }

        private record Head(Onnx.NodeProto node, ConstValue weight, ConstValue bias) {
        }

        /**
         * The first MatMul or Gemm with a constant weight downstream of the top layer's Y. For a bidirectional
         * (cloze) model the path runs through the Slice/Concat ops that shift each direction's states.
         */
        private Head head(Layer top) {
            Set<String> reached = new HashSet<>();
            Deque<String> pending = new ArrayDeque<>(List.of(top.node.getOutput(0)));
            Set<Onnx.NodeProto> downstream = new HashSet<>();
            while (!pending.isEmpty()) {
                String name = pending.pop();
                if (!reached.add(name)) {
                    continue;
                }
                for (Onnx.NodeProto consumer : consumers.getOrDefault(name, List.of())) {
                    if (downstream.add(consumer)) {
                        pending.addAll(consumer.getOutputList());
                    }
                }
            }
            for (Onnx.NodeProto node : graph.getNodeList()) {
                if (!downstream.contains(node) || !isDefaultDomain(node)) {
                    continue;
                }
                if (node.getOpType().equals("MatMul") && node.getInputCount() == 2 && node.getOutputCount() == 1) {
                    ConstValue b = scope.value(node.getInput(1));
                    if (b != null && b.isReal() && b.rank() == 2) {
                        // MatMul computes x·B with B = Wᵀ of shape [features, vocab]
                        return new Head(node, b.transpose(null), addedBias(node, b.dims()[1]));
                    }
                } else if (node.getOpType().equals("Gemm")) {
                    return gemmHead(node);
                }
            }
            throw bad("no linear head (MatMul or Gemm by a constant matrix) follows "
                    + ConstantFolder.describe(top.node));
        }

        private Head gemmHead(Onnx.NodeProto node) {
            String where = ConstantFolder.describe(node);
            if (node.getInputCount() < 2) {
                throw bad(where + ": Gemm needs inputs A and B");
            }
            ConstValue b = scope.value(node.getInput(1));
            if (b == null || !b.isReal() || b.rank() != 2) {
                throw bad(where + ": the head weight (input B) is not a constant float matrix");
            }
            if (ConstantFolder.intAttribute(node, "transA", 0) != 0) {
                throw bad(where + ": transA=1 is not supported for the head");
            }
            for (String scale : List.of("alpha", "beta")) {
                Onnx.AttributeProto a = ConstantFolder.attribute(node, scale);
                if (a != null && a.getF() != 1f) {
                    throw bad(where + ": " + scale + "=" + a.getF() + " is not supported for the head (only 1)");
                }
            }
            ConstValue weight = ConstantFolder.intAttribute(node, "transB", 0) != 0
                    ? ConstValue.ofFloats(b.dims(), b.floats().clone()) : b.transpose(null);
            int vocab = weight.dims()[0];
            ConstValue bias = null;
            if (node.getInputCount() > 2 && !node.getInput(2).isEmpty()) {
                bias = scope.value(node.getInput(2));
                if (bias == null || !bias.isReal() || bias.size() != vocab) {
                    throw bad(where + ": the head bias (input C) must be a constant of " + vocab + " values");
                }
            }
            return new Head(node, weight, bias);
        }

        /** The constant [V] operand of an Add that consumes the MatMul's output, or null when there is none. */
        private ConstValue addedBias(Onnx.NodeProto matMul, int vocab) {
            for (Onnx.NodeProto consumer : consumers.getOrDefault(matMul.getOutput(0), List.of())) {
                if (!consumer.getOpType().equals("Add") || consumer.getInputCount() != 2) {
                    continue;
                }
                String other = consumer.getInput(0).equals(matMul.getOutput(0)) ? consumer.getInput(1)
                        : consumer.getInput(0);
                ConstValue bias = scope.value(other);
                if (bias != null && bias.isReal() && bias.size() == vocab) {
                    return bias;
                }
            }
            return null;
        }

        private Vocabulary parseVocabulary(String text, int vocab) {
            JsonNode node = json(VOCABULARY_KEY, text);
            if (!node.isArray() || node.size() != vocab) {
                throw bad("metadata " + VOCABULARY_KEY + " must be a JSON array of " + vocab + " code points, found "
                        + abbreviate(text));
            }
            int[] codePoints = new int[vocab];
            for (int i = 0; i < vocab; i++) {
                JsonNode cp = node.get(i);
                if (!cp.isInt() || cp.intValue() < 0 || cp.intValue() > Character.MAX_CODE_POINT
                        || (i > 0 && cp.intValue() <= codePoints[i - 1])) {
                    throw bad("metadata " + VOCABULARY_KEY + ": entry " + i + " must be a code point above the "
                            + "previous one, found " + cp);
                }
                codePoints[i] = cp.intValue();
            }
            return new Vocabulary(codePoints);
        }

        /** Every field the hint states must agree with the graph; absent fields are not checked. */
        private void checkHint(Architecture arch) {
            String text = model.getMetadataPropsList().stream().filter(e -> e.getKey().equals(ARCHITECTURE_KEY))
                    .map(Onnx.StringStringEntryProto::getValue).findFirst().orElse(null);
            if (text == null) {
                return;
            }
            JsonNode hint = json(ARCHITECTURE_KEY, text);
            if (!hint.isObject()) {
                throw bad("metadata " + ARCHITECTURE_KEY + " must be a JSON object, found " + abbreviate(text));
            }
            Map<String, String> actual = new LinkedHashMap<>();
            actual.put("cell", arch.cell().id());
            actual.put("vocab_size", Integer.toString(arch.vocabSize()));
            actual.put("embed_dim", Integer.toString(arch.embedDim()));
            actual.put("hidden_size", Integer.toString(arch.hiddenSize()));
            actual.put("layers", Integer.toString(arch.layers()));
            actual.put("bidirectional", Boolean.toString(arch.bidirectional()));
            if (arch.cell() == CellType.RNN) {
                actual.put("activation", arch.activation().id());
            }
            if (arch.cell() == CellType.GRU) {
                actual.put("linear_before_reset", Boolean.toString(arch.linearBeforeReset()));
            }
            for (Map.Entry<String, String> e : actual.entrySet()) {
                JsonNode stated = hint.get(e.getKey());
                if (stated != null && !stated.asText().equalsIgnoreCase(e.getValue())) {
                    throw bad("metadata " + ARCHITECTURE_KEY + " says " + e.getKey() + " = " + stated.asText()
                            + ", but the graph has " + e.getValue());
                }
            }
        }

        private JsonNode json(String key, String text) {
            try {
                return JSON.readTree(text);
            } catch (JsonProcessingException e) {
                throw bad("metadata " + key + " is not valid JSON: " + e.getOriginalMessage());
            }
        }

        private BadFileException bad(String problem) {
            return new BadFileException(file, problem);
        }
    }

    /** A row-major float matrix, either little-endian bytes of the file or a decoded array. */
    private record Matrix(int[] dims, FloatBuffer raw, float[] decoded) {
        int rank() {
            return dims.length;
        }

        void copy(int from, float[] to, int toOffset, int length) {
            if (raw != null) {
                raw.get(from, to, toOffset, length);
            } else {
                System.arraycopy(decoded, from, to, toOffset, length);
            }
        }
    }

    private static boolean isDefaultDomain(Onnx.NodeProto node) {
        return node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx");
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 60) + "...";
    }
}
