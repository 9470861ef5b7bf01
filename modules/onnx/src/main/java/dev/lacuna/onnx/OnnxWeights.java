package dev.lacuna.onnx;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.UnsafeByteOperations;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.onnx.proto.Onnx;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The weights of any ONNX model, whatever its architecture: listed wherever they live, and pruned by magnitude in
 * one shot with no training data, so that models Lacuna cannot fine-tune can still be compressed.
 *
 * <p>A weight is a real-valued tensor (FLOAT, FLOAT16, BFLOAT16 or DOUBLE) that the graph uses as a matrix operand
 * or an embedding table (see {@link WeightUses}), stored as a graph initializer or as the value of a Constant node, in
 * the main graph or inside the subgraphs of If, Loop and Scan nodes, inline or in external data. Biases (including the
 * rank-2 B input of recurrent nodes) are never pruned, following N17 §3. Sparse initializers are left as they are.
 *
 * <p>Pruning writes zeros into each tensor in its own encoding and data type; then, unless
 * {@link OnnxPruning#storage()} is {@link SparseMode#NONE}, each pruned weight whose sparse form is smaller is
 * replaced by that form ({@link PrunedStorage}), so the file really shrinks. The output differs from the input only
 * in the pruned weights, in tensors that were stored externally (now inline, which makes the output file
 * self-contained), and in the provenance entries {@value #METHOD_KEY}, {@value #HYPERPARAMETERS_KEY} and
 * {@value #SPARSITY_KEY} of {@code metadata_props}.
 */
public final class OnnxWeights {
    public static final String METHOD_KEY = "lacuna.method";
    public static final String HYPERPARAMETERS_KEY = "lacuna.hyperparameters";
    public static final String SPARSITY_KEY = "lacuna.sparsity";
    /** Value of {@value #METHOD_KEY} in a pruned file. */
    public static final String METHOD = "oneshot";

    private static final ObjectMapper JSON = new ObjectMapper();

    private OnnxWeights() {
    }

    /**
     * Every weight tensor of the model, in file order (main graph first, each subgraph where its node appears).
     *
     * @throws BadFileException when the file is not a readable ONNX model or a tensor's data is inconsistent
     */
    public static List<OnnxWeight> list(Path file) {
        Onnx.ModelProto.Builder model = OnnxFiles.read(file).toBuilder();
        List<OnnxWeight> out = new ArrayList<>();
        for (Found f : find(model, file)) {
            out.add(f.weight);
        }
        return out;
    }

    /**
     * Prunes a model and writes the result atomically to {@code out} (which may equal {@code in}).
     *
     * @return one entry per weight tensor with its sparsity before and after, and the storage and bytes written
     * @throws BadFileException when {@code in} is not a readable ONNX model or {@code out} cannot be written
     */
    public static OnnxPruneReport prune(Path in, Path out, OnnxPruning pruning) {
        Pruned result = prune(OnnxFiles.read(in), in, pruning);
        OnnxFiles.write(result.model, out);
        return result.report;
    }

    /** The pruned model (not yet written) and its report. */
    record Pruned(Onnx.ModelProto model, OnnxPruneReport report) {
    }

    static Pruned prune(Onnx.ModelProto source, Path file, OnnxPruning pruning) {
        Onnx.ModelProto.Builder model = source.toBuilder();
        List<Found> found = find(model, file);
        List<Found> targets = new ArrayList<>();
        for (Found f : found) {
            if (pruning.includeEmbeddings() || !f.weight.embedding()) {
                targets.add(f);
            }
        }
        Map<Found, Mask> selections = switch (pruning.rule()) {
            case SPARSITY_PER_TENSOR -> perTensor(targets, pruning.value());
            case SPARSITY_GLOBAL -> global(targets, pruning.value());
            case STD_THRESHOLD -> stdThreshold(targets, pruning.value());
        };
        for (Found f : found) {
            Mask s = selections.get(f);
            if (s != null) {
                zeroOut(f.builder, s.prune, file);
            }
        }
        inlineExternalData(model, file);
        // dense sizes are measured before any graph is edited: the builders of Constant nodes move with the edits
        long[] denseBytes = new long[found.size()];
        List<PrunedStorage.Request> requests = new ArrayList<>();
        for (int i = 0; i < found.size(); i++) {
            Found f = found.get(i);
            denseBytes[i] = PrunedStorage.denseBytes(f.graph, f.constantNode, f.builder);
            Mask s = selections.get(f);
            if (s != null) {
                requests.add(new PrunedStorage.Request(f.graph, f.depth, f.constantNode, f.weight.name(), f.builder,
                        prunedValues(f.values, s.prune)));
            }
        }
        List<PrunedStorage.Stored> stored = PrunedStorage.store(model, requests, pruning.storage());
        List<OnnxPruneReport.Entry> entries = new ArrayList<>();
        int next = 0;
        for (int i = 0; i < found.size(); i++) {
            Found f = found.get(i);
            Mask s = selections.get(f);
            if (s == null) {
                entries.add(new OnnxPruneReport.Entry(f.weight, false, 0, f.weight.zeros(), SparseMode.NONE,
                        denseBytes[i], denseBytes[i]));
                continue;
            }
            long zeros = 0;
            for (int j = 0; j < f.values.length; j++) {
                if (s.prune[j] || f.values[j] == 0) {
                    zeros++;
                }
            }
            PrunedStorage.Stored st = stored.get(next++);
            entries.add(new OnnxPruneReport.Entry(f.weight, true, s.threshold, zeros, st.storage(), st.denseBytes(),
                    st.bytes()));
        }
        OnnxPruneReport report = new OnnxPruneReport(pruning, entries);
        setMetadata(model, METHOD_KEY, METHOD);
        setMetadata(model, HYPERPARAMETERS_KEY, hyperparameters(pruning));
        setMetadata(model, SPARSITY_KEY, sparsityJson(report));
        Onnx.ModelProto built = model.build();
        if (built.getSerializedSize() < 0) {
            throw new BadFileException(file, "the pruned model exceeds protobuf's 2 GiB limit once its external data "
                    + "is stored inline");
        }
        return new Pruned(built, report);
    }

    /**
     * A weight tensor: where to write it back (its graph, and its Constant node's index or -1 for an initializer),
     * what it looked like, and its values as float32.
     */
    private static final class Found {
        final Onnx.TensorProto.Builder builder;
        final Onnx.GraphProto.Builder graph;
        final int depth;
        final int constantNode;
        final OnnxWeight weight;
        final float[] values;

        Found(Onnx.TensorProto.Builder builder, Place place, OnnxWeight weight, float[] values) {
            this.builder = builder;
            this.graph = place.graph;
            this.depth = place.depth;
            this.constantNode = place.node;
            this.weight = weight;
            this.values = values;
        }
    }

    /** Where a visited tensor sits: its graph, that graph's nesting depth, and its node's index (-1: initializer). */
    private record Place(Onnx.GraphProto.Builder graph, int depth, int node) {
    }

    /** The values after pruning: exactly what {@link #zeroOut} wrote, as float32. */
    private static float[] prunedValues(float[] values, boolean[] prune) {
        float[] out = values.clone();
        for (int i = 0; i < out.length; i++) {
            if (prune[i]) {
                out[i] = 0f;
            }
        }
        return out;
    }

    /** Positions to zero in one tensor, and the threshold that chose them. */
    private record Mask(boolean[] prune, double threshold) {
    }

    private static List<Found> find(Onnx.ModelProto.Builder model, Path file) {
        WeightUses uses = new WeightUses(model.getGraph());
        List<Found> found = new ArrayList<>();
        walk(model.getGraphBuilder(), "", 0, (t, place, graphKey, valueName, location) -> {
            if (!OnnxTensors.isReal(t.getDataType())) {
                return;
            }
            WeightUses.Role role = uses.role(graphKey, valueName);
            if (role == WeightUses.Role.OTHER) {
                return;
            }
            Onnx.TensorProto proto = t.build();
            int[] shape = OnnxTensors.shape(proto, file);
            float[] values = OnnxTensors.toFloats(proto, file);
            long zeros = 0;
            for (float v : values) {
                if (v == 0) {
                    zeros++;
                }
            }
            boolean external = t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL;
            OnnxWeight w = new OnnxWeight(valueName, location + (external ? " (external)" : ""), shape,
                    OnnxTensors.typeName(t.getDataType()), role == WeightUses.Role.EMBEDDING, zeros);
            found.add(new Found(t, place, w, values));
        });
        return found;
    }

    @FunctionalInterface
    private interface TensorVisitor {
        /**
         * @param graphKey  the graph holding the tensor (see {@link WeightUses})
         * @param valueName the graph value the tensor defines (an initializer's name, a Constant node's output), or
         *                  null for tensors in other attributes
         */
        void visit(Onnx.TensorProto.Builder tensor, Place place, String graphKey, String valueName,
                   String location);
    }

    /** Visits every tensor of a graph and, depth first, of the subgraphs in its nodes' attributes. */
    private static void walk(Onnx.GraphProto.Builder graph, String key, int depth, TensorVisitor visitor) {
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            Onnx.TensorProto.Builder t = graph.getInitializerBuilder(i);
            visitor.visit(t, new Place(graph, depth, -1), key, t.getName(), key + "initializer");
        }
        for (int j = 0; j < graph.getNodeCount(); j++) {
            Onnx.NodeProto.Builder node = graph.getNodeBuilder(j);
            String where = key + ConstantFolder.describe(node);
            boolean constant = node.getOpType().equals("Constant") && node.getOutputCount() == 1;
            for (int k = 0; k < node.getAttributeCount(); k++) {
                Onnx.AttributeProto.Builder a = node.getAttributeBuilder(k);
                if (a.hasT()) {
                    boolean value = constant && a.getName().equals("value");
                    visitor.visit(a.getTBuilder(), new Place(graph, depth, j), key, value ? node.getOutput(0) : null,
                            value ? where : where + " attribute " + a.getName());
                }
                for (int m = 0; m < a.getTensorsCount(); m++) {
                    visitor.visit(a.getTensorsBuilder(m), new Place(graph, depth, j), key, null, where + " attribute " + a.getName() + "[" + m
                            + "]");
                }
                if (a.hasG()) {
                    walk(a.getGBuilder(), WeightUses.subgraphKey(key, node, a.getName(), -1), depth + 1, visitor);
                }
                for (int m = 0; m < a.getGraphsCount(); m++) {
                    walk(a.getGraphsBuilder(m), WeightUses.subgraphKey(key, node, a.getName(), m), depth + 1,
                            visitor);
                }
            }
        }
    }

    /** The round(S·n) smallest magnitudes of each tensor. */
    private static Map<Found, Mask> perTensor(List<Found> targets, double sparsity) {
        Map<Found, Mask> out = new LinkedHashMap<>();
        for (Found f : targets) {
            out.put(f, smallest(List.of(f), sparsity).get(f));
        }
        return out;
    }

    /** The round(S·n) smallest magnitudes over all tensors pooled; ties at the threshold go in file order. */
    private static Map<Found, Mask> global(List<Found> targets, double sparsity) {
        return smallest(targets, sparsity);
    }

    /**
     * Exactly round(S·n) of the pooled values: every magnitude below the k-th smallest, and as many equal to it as
     * needed, in file order (ties matter when many weights share a value, such as the zeros of a pre-pruned model).
     */
    private static Map<Found, Mask> smallest(List<Found> tensors, double sparsity) {
        float[] magnitudes = magnitudes(tensors);
        long k = Math.round(sparsity * magnitudes.length);
        float threshold = k == 0 ? 0 : Selection.kthSmallest(magnitudes, (int) k);
        long below = 0;
        for (float m : magnitudes) {
            if (m < threshold) {
                below++;
            }
        }
        long ties = k - below;
        Map<Found, Mask> out = new LinkedHashMap<>();
        for (Found f : tensors) {
            boolean[] prune = new boolean[f.values.length];
            if (k > 0) {
                for (int i = 0; i < prune.length; i++) {
                    float a = Math.abs(f.values[i]);
                    if (a < threshold) {
                        prune[i] = true;
                    } else if (a == threshold && ties > 0) {
                        prune[i] = true;
                        ties--;
                    }
                }
            }
            out.put(f, new Mask(prune, threshold));
        }
        return out;
    }

    /** Han et al. 2015: |w| ≤ s·σ, σ of the tensor's dense values; DIST prunes a weight equal to the threshold. */
    private static Map<Found, Mask> stdThreshold(List<Found> targets, double quality) {
        Map<Found, Mask> out = new LinkedHashMap<>();
        for (Found f : targets) {
            double threshold = quality * standardDeviation(f.values);
            boolean[] prune = new boolean[f.values.length];
            for (int i = 0; i < prune.length; i++) {
                prune[i] = Math.abs(f.values[i]) <= threshold;
            }
            out.put(f, new Mask(prune, threshold));
        }
        return out;
    }

    static double standardDeviation(float[] values) {
        int n = values.length;
        if (n < 2) {
            return 0;
        }
        double mean = 0;
        for (float v : values) {
            mean += v;
        }
        mean /= n;
        double sum = 0;
        for (float v : values) {
            double d = v - mean;
            sum += d * d;
        }
        return Math.sqrt(sum / (n - 1));
    }

    /** The absolute values of all the tensors, pooled in file order. */
    private static float[] magnitudes(List<Found> tensors) {
        long n = 0;
        for (Found f : tensors) {
            n += f.values.length;
        }
        if (n > OnnxTensors.MAX_ELEMENTS) {
            throw new LacunaException("more than " + OnnxTensors.MAX_ELEMENTS + " weights to rank at once; prune "
                    + "per tensor instead of globally");
        }
        float[] abs = new float[(int) n];
        int i = 0;
        for (Found f : tensors) {
            for (float v : f.values) {
                abs[i++] = Math.abs(v);
            }
        }
        return abs;
    }

    /** Writes zeros at the marked positions, keeping the tensor's data type and storage field. */
    private static void zeroOut(Onnx.TensorProto.Builder t, boolean[] prune, Path file) {
        int type = t.getDataType();
        boolean external = t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL;
        if (external || t.hasRawData()) {
            int width = OnnxTensors.elementBytes(type);
            byte[] bytes = rawCopy(t, file);
            for (int i = 0; i < prune.length; i++) {
                if (prune[i]) {
                    Arrays.fill(bytes, i * width, (i + 1) * width, (byte) 0);
                }
            }
            setInline(t, bytes);
            return;
        }
        for (int i = 0; i < prune.length; i++) {
            if (!prune[i]) {
                continue;
            }
            switch (type) {
                case OnnxTensors.FLOAT -> t.setFloatData(i, 0f);
                case OnnxTensors.FLOAT16, OnnxTensors.BFLOAT16 -> t.setInt32Data(i, 0);
                default -> t.setDoubleData(i, 0d);
            }
        }
    }

    /** The tensor's raw bytes (inline or external) as a fresh array. */
    private static byte[] rawCopy(Onnx.TensorProto.Builder t, Path file) {
        Onnx.TensorProto proto = t.build();
        int count = OnnxTensors.elementCount(OnnxTensors.shape(proto, file));
        ByteBuffer raw = OnnxTensors.rawBytes(proto, file, count);
        byte[] bytes = new byte[raw.remaining()];
        raw.get(bytes);
        return bytes;
    }

    /** Stores bytes inline; the array is freshly made and owned here, so wrapping it without a copy is safe. */
    private static void setInline(Onnx.TensorProto.Builder t, byte[] bytes) {
        t.setRawData(UnsafeByteOperations.unsafeWrap(bytes));
        t.clearExternalData();
        t.clearDataLocation();
    }

    /**
     * External locations are relative to the model's folder, which the output need not share; storing the data inline
     * keeps the pruned file self-contained.
     */
    private static void inlineExternalData(Onnx.ModelProto.Builder model, Path file) {
        walk(model.getGraphBuilder(), "", 0, (t, place, graphKey, valueName, location) -> {
            if (t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL) {
                setInline(t, rawCopy(t, file));
            }
        });
    }

    private static void setMetadata(Onnx.ModelProto.Builder model, String key, String value) {
        for (int i = 0; i < model.getMetadataPropsCount(); i++) {
            if (model.getMetadataProps(i).getKey().equals(key)) {
                model.setMetadataProps(i, Onnx.StringStringEntryProto.newBuilder().setKey(key).setValue(value));
                return;
            }
        }
        model.addMetadataProps(Onnx.StringStringEntryProto.newBuilder().setKey(key).setValue(value));
    }

    /**
     * The layout Lacuna's ONNX export uses for {@value #SPARSITY_KEY}: {"sparsity": over the pruned tensors,
     * "tensors": {name: {"size", "nonzero", "sparsity"}}}, keyed by location when a tensor has no name.
     */
    private static String sparsityJson(OnnxPruneReport report) {
        ObjectNode root = JSON.createObjectNode();
        root.put("sparsity", report.sparsity());
        ObjectNode tensors = root.putObject("tensors");
        for (OnnxPruneReport.Entry e : report.tensors()) {
            OnnxWeight w = e.before();
            ObjectNode t = tensors.putObject(w.name().isEmpty() ? w.location() : w.name());
            t.put("size", w.size());
            t.put("nonzero", w.size() - e.zerosAfter());
            t.put("sparsity", e.sparsityAfter());
        }
        return toJson(root);
    }

    private static String toJson(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String hyperparameters(OnnxPruning pruning) {
        ObjectNode node = JSON.createObjectNode();
        node.put("rule", pruning.rule().name().toLowerCase(Locale.ROOT));
        node.put(pruning.rule() == OnnxPruning.Rule.STD_THRESHOLD ? "quality" : "target_sparsity", pruning.value());
        node.put("include_embeddings", pruning.includeEmbeddings());
        return toJson(node);
    }
}
