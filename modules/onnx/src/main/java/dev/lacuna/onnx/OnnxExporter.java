package dev.lacuna.onnx;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.LacunaException;
import dev.lacuna.core.Model;
import dev.lacuna.core.SparsityReport;
import dev.lacuna.core.Tensor;
import dev.lacuna.io.AtomicFiles;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a Lacuna {@link Model} (dense or pruned) as an ONNX model that ONNX Runtime runs with the outputs of
 * Lacuna's own forward pass.
 *
 * <p>Graph (standard operators only):
 * <ul>
 *   <li>input {@value #TOKENS}: int64 {@code [time, batch]} class ids, both dimensions symbolic;</li>
 *   <li>{@code Gather} on {@code embedding.weight}, or {@code OneHot} over the vocabulary when the model has no
 *       embedding (one-hot input is what {@code W_ih} multiplies, so W stays the LSTM's own weight and is stored
 *       sparse like any other);</li>
 *   <li>one ONNX {@code LSTM}/{@code GRU}/{@code RNN} node per layer, layout 0, direction forward or
 *       bidirectional, gates in ONNX order ({@link OnnxGateOrder}), {@code B = [Wb, Rb]}, GRU
 *       {@code linear_before_reset} and the RNN activation from the architecture; {@code Y [time, dirs, batch,
 *       hidden]} becomes {@code [time, batch, dirs·hidden]} for the next layer by Transpose and Reshape (Squeeze
 *       when unidirectional);</li>
 *   <li>head: {@code MatMul} with {@code head.weightᵀ [dirs·hidden, vocab]} and {@code Add} of the bias. A
 *       bidirectional model is a cloze model (see {@link Architecture}): the head reads the top layer's
 *       left-to-right output at t−1 and right-to-left output at t+1, zeros past either edge, built as
 *       {@code Pad} by one step on both ends of the time axis, two {@code Slice}s and a {@code Concat};</li>
 *   <li>outputs {@value #LOGITS} float {@code [time, batch, vocab]}, {@value #HIDDEN} float
 *       {@code [layers·dirs, batch, hidden]} (final states in PyTorch's {@code h_n} order, layer-major) and for an
 *       LSTM {@value #CELL}.</li>
 * </ul>
 *
 * <p>Provenance goes to {@code metadata_props}: every entry of {@link Model#metadata()} (lacuna.version,
 * lacuna.method, lacuna.hyperparameters, ...), plus {@value #ARCHITECTURE_KEY} and {@value #VOCABULARY_KEY} in the
 * JSON forms of Lacuna's checkpoints (so a re-import restores the model exactly) and {@value #SPARSITY_KEY}, the
 * non-zero count and sparsity of every Lacuna tensor.
 */
public final class OnnxExporter {
    /** Graph input: int64 [time, batch] class ids (the name PyTorch exports of Lacuna-shaped models use too). */
    public static final String TOKENS = "tokens";
    /** Graph output: float [time, batch, vocab]. */
    public static final String LOGITS = "logits";
    /** Graph output: final hidden states, float [layers·directions, batch, hidden]. */
    public static final String HIDDEN = "h_n";
    /** Graph output of LSTMs: final cell states, float [layers·directions, batch, hidden]. */
    public static final String CELL = "c_n";
    /** Metadata key: the architecture as the JSON object Lacuna checkpoints store. */
    public static final String ARCHITECTURE_KEY = ModelCheckpoint.ARCHITECTURE_KEY;
    /** Metadata key: the vocabulary as a JSON array of ascending code points. */
    public static final String VOCABULARY_KEY = ModelCheckpoint.VOCABULARY_KEY;
    /** Metadata key: {"sparsity": s, "tensors": {name: {"size", "nonzero", "sparsity"}}} over Lacuna's tensors. */
    public static final String SPARSITY_KEY = "lacuna.sparsity";
    /** {@code producer_name} of every export. */
    public static final String PRODUCER = "lacuna";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int FLOAT = Onnx.TensorProto.DataType.FLOAT_VALUE;
    private static final String TIME = "time";
    private static final String BATCH = "batch";

    private OnnxExporter() {
    }

    /** The ONNX model in memory. The input model is not changed. */
    public static Onnx.ModelProto export(Model model, ExportOptions options) {
        return new Build(model, options).model().materialize();
    }

    /**
     * Writes the ONNX model to {@code target} atomically. The dense weights are written from the model's own arrays
     * as the file is written, so the heap holds no serialized copy of them (the bytes are those of
     * {@link #export}{@code (model, options).toByteArray()}).
     *
     * @throws dev.lacuna.core.BadFileException naming {@code target} when it cannot be written
     */
    public static ExportReport write(Model model, Path target, ExportOptions options) {
        Build build = new Build(model, options);
        // streamed: dense weights go from the model's arrays into the file, with no serialized copy in memory
        StreamedModel streamed = build.model();
        AtomicFiles.write(target, streamed::writeTo);
        return new ExportReport(target, streamed.serializedSize(), build.mode, build.stored);
    }

    /** The report of an in-memory export (file null), for callers that only need sizes. */
    public static ExportReport report(Model model, ExportOptions options) {
        Build build = new Build(model, options);
        return new ExportReport(null, build.model().serializedSize(), build.mode, build.stored);
    }

    /** One export: the graph under construction and the storage chosen per tensor. */
    private static final class Build {
        private final Model model;
        private final Architecture arch;
        private final ExportOptions options;
        private final SparseMode mode;
        private final OnnxGraphBuilder graph;
        private final List<ExportReport.StoredTensor> stored = new ArrayList<>();
        private StreamedModel result;

        Build(Model input, ExportOptions options) {
            // Stored values must agree with the masks and the caller's model must stay as is: a copy with the masks
            // applied when they zero anything, else the model itself (no copy of a 100M-parameter model's weights).
            if (masksChangeValues(input)) {
                this.model = input.copy();
                model.applyMasks();
            } else {
                this.model = input;
            }
            this.arch = model.architecture();
            this.options = options;
            this.mode = options.sparse() != null ? options.sparse() : SparseMode.defaultFor(model);
            this.graph = new OnnxGraphBuilder("lacuna_" + arch.cell().id());
        }

        StreamedModel model() {
            if (result == null) {
                result = new StreamedModel(build(), graph.deferred());
            }
            return result;
        }

        /** The model with the dense weights as headers only; their values are in {@code graph.deferred()}. */
        private Onnx.ModelProto build() {
            Onnx.GraphProto.Builder g = graph.proto();
            g.addInput(OnnxGraphBuilder.valueInfo(TOKENS, Onnx.TensorProto.DataType.INT64_VALUE, TIME, BATCH));
            String x = inputFeatures();
            List<String> hidden = new ArrayList<>();
            List<String> cells = new ArrayList<>();
            String y = null;
            for (int l = 0; l < arch.layers(); l++) {
                y = recurrentLayer(l, x, hidden, cells);
                if (l < arch.layers() - 1) {
                    x = flattenDirections(y, "layer" + l);
                }
            }
            String features = arch.bidirectional() ? clozeFeatures(y) : flattenDirections(y, "top");
            head(features);
            finalStates(hidden, HIDDEN);
            if (arch.cell() == CellType.LSTM) {
                finalStates(cells, CELL);
            }
            int dirsTimesLayers = arch.layers() * arch.directions();
            g.addOutput(OnnxGraphBuilder.valueInfo(LOGITS, FLOAT, TIME, BATCH, (long) arch.vocabSize()));
            g.addOutput(OnnxGraphBuilder.valueInfo(HIDDEN, FLOAT, (long) dirsTimesLayers, BATCH,
                    (long) arch.hiddenSize()));
            if (arch.cell() == CellType.LSTM) {
                g.addOutput(OnnxGraphBuilder.valueInfo(CELL, FLOAT, (long) dirsTimesLayers, BATCH,
                        (long) arch.hiddenSize()));
            }
            g.setDocString("Lacuna " + arch.cell().id() + " character model. Input " + TOKENS
                    + ": int64 [time, batch] class ids into lacuna.vocabulary. Outputs " + LOGITS
                    + " [time, batch, vocab], " + HIDDEN + (arch.cell() == CellType.LSTM ? " and " + CELL : "")
                    + " [layers*directions, batch, hidden]"
                    + (arch.bidirectional() ? "; cloze model: logits at t predict the symbol at t" : "") + ".");
            Onnx.ModelProto.Builder m = Onnx.ModelProto.newBuilder()
                    .setIrVersion(options.irVersion())
                    .setProducerName(PRODUCER)
                    .setProducerVersion(options.producerVersion())
                    .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(options.opset()))
                    .setGraph(g);
            metadata(m);
            return m.build();
        }

        /** Stores a tensor; when it stays dense, its array is written as it is, not copied. */
        private void store(String name, long[] dims, float[] values) {
            stored.add(SparseStorage.add(graph, name, dims, DenseValues.of(values), mode, 1));
        }

        /** A recurrent W or R: one block per gate and direction, as a per-gate quantized model shares values. */
        private void storeRecurrent(String name, long[] dims, DenseValues values) {
            int blocks = arch.directions() * arch.cell().gates();
            stored.add(SparseStorage.add(graph, name, dims, values, mode, blocks));
        }

        /** Layer 0's input: embedded tokens, or the tokens one-hot encoded. */
        private String inputFeatures() {
            if (arch.embedDim() > 0) {
                Tensor e = model.tensor(Architecture.EMBEDDING);
                store(Architecture.EMBEDDING, longs(e.shape()), e.data());
                graph.node("Gather", "embedding", List.of(Architecture.EMBEDDING, TOKENS), List.of("embedded"),
                        OnnxGraphBuilder.attribute("axis", 0));
                return "embedded";
            }
            String depth = graph.int64s("one_hot.depth", arch.vocabSize());
            graph.initializer(OnnxTensors.toProto("one_hot.values", new long[] {2}, new float[] {0f, 1f}));
            graph.node("OneHot", "one_hot", List.of(TOKENS, depth, "one_hot.values"), List.of("one_hot"),
                    OnnxGraphBuilder.attribute("axis", -1));
            return "one_hot";
        }

        /** Adds layer {@code l}'s weights and recurrent node; returns its Y [time, dirs, batch, hidden]. */
        private String recurrentLayer(int l, String x, List<String> hidden, List<String> cells) {
            CellType cell = arch.cell();
            int h = arch.hiddenSize();
            int dirs = arch.directions();
            int rows = cell.gates() * h;
            int in = arch.inputSize(l);
            // W and R are views of the model's matrices, gate blocks in ONNX order; only the small B is copied
            DenseValues w = new DenseValues();
            DenseValues r = new DenseValues();
            float[] b = new float[dirs * 2 * rows];
            for (int d = 0; d < dirs; d++) {
                boolean reverse = d == 1;
                gateBlocks(data(Architecture.weightIh(l, reverse)), h * in, w);
                gateBlocks(data(Architecture.weightHh(l, reverse)), h * h, r);
                copy(OnnxGateOrder.toOnnx(cell, data(Architecture.biasIh(l, reverse)), h, 1), b, d * 2 * rows);
                copy(OnnxGateOrder.toOnnx(cell, data(Architecture.biasHh(l, reverse)), h, 1), b,
                        d * 2 * rows + rows);
            }
            String prefix = "layer" + l;
            storeRecurrent(prefix + ".W", new long[] {dirs, rows, in}, w);
            storeRecurrent(prefix + ".R", new long[] {dirs, rows, h}, r);
            store(prefix + ".B", new long[] {dirs, 2L * rows}, b);

            String y = prefix + ".Y";
            String yh = arch.layers() == 1 ? HIDDEN : prefix + ".Y_h";
            String yc = arch.layers() == 1 ? CELL : prefix + ".Y_c";
            hidden.add(yh);
            List<String> outputs = new ArrayList<>(List.of(y, yh));
            if (cell == CellType.LSTM) {
                cells.add(yc);
                outputs.add(yc);
            }
            List<Onnx.AttributeProto> attributes = new ArrayList<>();
            attributes.add(OnnxGraphBuilder.attribute("hidden_size", h));
            attributes.add(OnnxGraphBuilder.attribute("direction", arch.bidirectional() ? "bidirectional"
                    : "forward"));
            if (cell == CellType.GRU) {
                attributes.add(OnnxGraphBuilder.attribute("linear_before_reset", arch.linearBeforeReset() ? 1 : 0));
            }
            if (cell == CellType.RNN) {
                // one activation per direction (Operators.md, RNN: "activations ... for each direction")
                String f = switch (arch.activation()) {
                    case TANH -> "Tanh";
                    case RELU -> "Relu";
                };
                attributes.add(OnnxGraphBuilder.strings("activations", dirs == 2 ? List.of(f, f) : List.of(f)));
            }
            graph.add(OnnxGraphBuilder.node(onnxOp(cell), prefix, List.of(x, prefix + ".W", prefix + ".R",
                    prefix + ".B"), outputs, attributes));
            return y;
        }

        /** Y [time, dirs, batch, hidden] → [time, batch, dirs·hidden], directions concatenated as PyTorch does. */
        private String flattenDirections(String y, String prefix) {
            String out = prefix + ".features";
            if (arch.directions() == 1) {
                graph.node("Squeeze", prefix + ".squeeze", List.of(y, graph.int64s(prefix + ".squeeze_axes", 1)),
                        List.of(out));
                return out;
            }
            String transposed = prefix + ".transposed";
            graph.node("Transpose", prefix + ".transpose", List.of(y), List.of(transposed),
                    OnnxGraphBuilder.ints("perm", 0, 2, 1, 3));
            // 0 copies the input's dimension (Operators.md, Reshape with allowzero=0), so time and batch stay symbolic
            graph.node("Reshape", prefix + ".reshape", List.of(transposed,
                    graph.int64s(prefix + ".flat_shape", 0, 0, -1)), List.of(out));
            return out;
        }

        /**
         * The cloze features of a bidirectional top layer: left-to-right output at t−1 and right-to-left output at
         * t+1, zeros past either end. Padding the time axis by one step on both sides puts the left-to-right output
         * of t−1 at padded index t and the right-to-left output of t+1 at padded index t+2.
         */
        private String clozeFeatures(String y) {
            graph.node("Pad", "cloze.pad", List.of(y, graph.int64s("cloze.pads", 1, 0, 0, 0, 1, 0, 0, 0)),
                    List.of("cloze.padded"));
            graph.node("Slice", "cloze.left", List.of("cloze.padded", graph.int64s("cloze.left_starts", 0, 0),
                    graph.int64s("cloze.left_ends", -2, 1), graph.int64s("cloze.axes", 0, 1)),
                    List.of("cloze.left_to_right"));
            graph.node("Slice", "cloze.right", List.of("cloze.padded", graph.int64s("cloze.right_starts", 2, 1),
                    graph.int64s("cloze.right_ends", Long.MAX_VALUE, 2), "cloze.axes"),
                    List.of("cloze.right_to_left"));
            graph.node("Concat", "cloze.concat", List.of("cloze.left_to_right", "cloze.right_to_left"),
                    List.of("cloze.shifted"), OnnxGraphBuilder.attribute("axis", 1));
            return flattenDirections("cloze.shifted", "cloze");
        }

        private void head(String features) {
            Tensor w = model.tensor(Architecture.HEAD_WEIGHT);
            int v = w.dim(0);
            int k = w.dim(1);
            float[] transposed = new float[v * k];
            float[] data = w.data();
            for (int i = 0; i < v; i++) {
                for (int j = 0; j < k; j++) {
                    transposed[j * v + i] = data[i * k + j];
                }
            }
            store("head.weight_transposed", new long[] {k, v}, transposed);
            store(Architecture.HEAD_BIAS, new long[] {v}, data(Architecture.HEAD_BIAS));
            graph.node("MatMul", "head.matmul", List.of(features, "head.weight_transposed"), List.of("head.product"));
            graph.node("Add", "head.add", List.of("head.product", Architecture.HEAD_BIAS), List.of(LOGITS));
        }

        /** Concatenates per-layer final states [dirs, batch, hidden] into [layers·dirs, batch, hidden]. */
        private void finalStates(List<String> perLayer, String output) {
            if (perLayer.size() > 1) {
                graph.node("Concat", output + ".concat", perLayer, List.of(output),
                        OnnxGraphBuilder.attribute("axis", 0));
            }
        }

        private void metadata(Onnx.ModelProto.Builder m) {
            model.metadata().forEach((key, value) -> {
                if (!key.equals(ARCHITECTURE_KEY) && !key.equals(VOCABULARY_KEY) && !key.equals(SPARSITY_KEY)) {
                    m.addMetadataProps(entry(key, value));
                }
            });
            m.addMetadataProps(entry(ARCHITECTURE_KEY, ModelCheckpoint.architectureJson(arch)));
            m.addMetadataProps(entry(VOCABULARY_KEY, ModelCheckpoint.vocabularyJson(model.vocabulary())));
            m.addMetadataProps(entry(SPARSITY_KEY, sparsityJson(model)));
        }

        private float[] data(String name) {
            return model.tensor(name).data();
        }

        /** Appends the gate blocks of a Lacuna-packed matrix in ONNX's gate order ({@link OnnxGateOrder}). */
        private void gateBlocks(float[] packed, int block, DenseValues into) {
            for (int k = 0; k < arch.cell().gates(); k++) {
                into.append(packed, OnnxGateOrder.lacunaBlockAt(arch.cell(), k) * block, block);
            }
        }
    }

    private static String onnxOp(CellType cell) {
        return switch (cell) {
            case LSTM -> "LSTM";
            case GRU -> "GRU";
            case RNN -> "RNN";
        };
    }

    /** Whether applying the masks would change a stored bit (a masked-out weight that is not +0.0). */
    private static boolean masksChangeValues(Model model) {
        for (Map.Entry<String, boolean[]> e : model.masks().entrySet()) {
            float[] data = model.tensor(e.getKey()).data();
            boolean[] keep = e.getValue();
            for (int i = 0; i < data.length; i++) {
                if (!keep[i] && Float.floatToRawIntBits(data[i]) != 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {"sparsity": over prunable tensors, "tensors": {name: {"size", "nonzero", "sparsity"}}}. */
    private static String sparsityJson(Model model) {
        SparsityReport report = model.sparsity(model.mask(Architecture.EMBEDDING) != null);
        ObjectNode root = JSON.createObjectNode();
        root.put("sparsity", report.sparsity());
        ObjectNode tensors = root.putObject("tensors");
        for (SparsityReport.Entry e : report.perTensor()) {
            ObjectNode t = tensors.putObject(e.name());
            t.put("size", e.size());
            t.put("nonzero", e.nonzero());
            t.put("sparsity", e.sparsity());
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new LacunaException("cannot render the sparsity report as JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static Onnx.StringStringEntryProto entry(String key, String value) {
        return Onnx.StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    private static void copy(float[] from, float[] to, int offset) {
        System.arraycopy(from, 0, to, offset, from.length);
    }

    private static long[] longs(int[] dims) {
        long[] out = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = dims[i];
        }
        return out;
    }

    /** The {@code metadata_props} of a model as an ordered map. */
    static Map<String, String> metadataOf(Onnx.ModelProto model) {
        Map<String, String> out = new LinkedHashMap<>();
        model.getMetadataPropsList().forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }
}
