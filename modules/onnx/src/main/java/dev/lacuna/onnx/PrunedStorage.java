package dev.lacuna.onnx;

import com.google.protobuf.CodedOutputStream;
import dev.lacuna.onnx.proto.Onnx;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites the pruned weights of an arbitrary ONNX graph in {@link SparseStorage}'s sparse forms, so that a one-shot
 * pruned file is really smaller than its input (issue #3, items 3 and 5), and leaves everything else as it was.
 *
 * <p>The sparse form of a tensor is built by {@link SparseStorage} itself (scatter, codebook or sparse initializer,
 * whichever is smallest, or none when dense is smaller), into a scratch graph whose pieces are then spliced into the
 * graph that held the tensor:
 * <ul>
 *   <li>an initializer is removed, the form's initializers are added beside the others and its rebuild nodes are put
 *   first in the graph, which is before any consumer since they read only their own initializers;</li>
 *   <li>a Constant node is replaced, at its place, by the rebuild nodes (which produce the same output name), its
 *   initializers joining the graph's.</li>
 * </ul>
 * The rebuilt tensor is bit-identical to the pruned dense one (SparseStorage keeps every non-zero bit pattern), so a
 * runtime computes exactly the same outputs.
 *
 * <p>A tensor stays dense, zeros in place, when a sparse form cannot stand for it: it is not float32 (the forms are
 * float32 only), the model's default-domain opset is below {@value #SCATTER_OPSET} (ScatterElements, CumSum and
 * BitShift appear in opset 11) or its IR version is below {@value #SPARSE_INITIALIZER_IR} for sparse initializers
 * (IR 6 introduced them), the initializer is also a graph input (a runtime may feed it, so it must stay an
 * initializer), or one of the names the form would add is already used somewhere in the model. Sparse initializers
 * are only written in the main graph: ONNX Runtime demands int64 indices for those of a subgraph.
 */
final class PrunedStorage {
    static final int SCATTER_OPSET = 11;
    static final int SPARSE_INITIALIZER_IR = 6;
    /** GraphProto field numbers (onnx.proto): node 1, initializer 5. */
    private static final int NODE_FIELD = 1;
    private static final int INITIALIZER_FIELD = 5;

    /**
     * One pruned weight to store.
     *
     * @param graph        the graph holding it
     * @param depth        how deep that graph is nested (0 for the main graph)
     * @param constantNode index of the Constant node whose value it is, or -1 for an initializer
     * @param name         the graph value it defines: the initializer's name or the Constant node's output
     * @param tensor       the tensor, already pruned (zeros written, data inline)
     * @param values       its values after pruning, as float32
     */
    record Request(Onnx.GraphProto.Builder graph, int depth, int constantNode, String name,
                   Onnx.TensorProto.Builder tensor,
                   float[] values) {
    }

    /**
     * What was written for a request.
     *
     * @param storage    {@link SparseMode#NONE} when left dense
     * @param denseBytes bytes of the dense tensor in its graph
     * @param bytes      bytes written for it
     */
    record Stored(SparseMode storage, long denseBytes, long bytes) {
    }

    private final SparseMode mode;
    private final boolean allowed;
    private final Set<String> usedNames;

    private PrunedStorage(Onnx.ModelProto.Builder model, SparseMode mode) {
        this.mode = mode;
        this.allowed = switch (mode) {
            case NONE -> false;
            case SCATTER -> defaultOpset(model) >= SCATTER_OPSET;
            case INITIALIZER -> model.getIrVersion() >= SPARSE_INITIALIZER_IR;
        };
        this.usedNames = new HashSet<>();
        if (allowed) {
            collectNames(model.getGraph(), usedNames);
        }
    }

    /**
     * Stores every request in {@code mode} where that is possible and smaller, editing the model's graphs.
     *
     * @return one result per request, in the same order
     */
    static List<Stored> store(Onnx.ModelProto.Builder model, List<Request> requests, SparseMode mode) {
        return new PrunedStorage(model, mode).storeAll(requests);
    }

    /** Bytes a tensor takes in its graph as it is now: its initializer field, or its whole Constant node. */
    static long denseBytes(Onnx.GraphProto.Builder graph, int constantNode, Onnx.TensorProto.Builder tensor) {
        return constantNode < 0
                ? CodedOutputStream.computeMessageSize(INITIALIZER_FIELD, tensor.build())
                : CodedOutputStream.computeMessageSize(NODE_FIELD, graph.getNodeBuilder(constantNode).build());
    }

    /** The pieces that replace one tensor in one graph. */
    private record Edit(int constantNode, String name, Onnx.GraphProto form) {
    }

    private List<Stored> storeAll(List<Request> requests) {
        List<Stored> results = new ArrayList<>();
        Map<Onnx.GraphProto.Builder, List<Edit>> edits = new IdentityHashMap<>();
        Map<Onnx.GraphProto.Builder, Integer> depths = new IdentityHashMap<>();
        for (Request r : requests) {
            long dense = denseBytes(r.graph, r.constantNode, r.tensor);
            Onnx.GraphProto form = sparseForm(r);
            if (form == null) {
                results.add(new Stored(SparseMode.NONE, dense, dense));
                continue;
            }
            long bytes = formBytes(form);
            if (bytes >= dense) {
                results.add(new Stored(SparseMode.NONE, dense, dense));
                continue;
            }
            edits.computeIfAbsent(r.graph, g -> new ArrayList<>()).add(new Edit(r.constantNode, r.name, form));
            depths.put(r.graph, r.depth);
            results.add(new Stored(mode, dense, bytes));
        }
        // innermost graphs first, so no subgraph is edited after the node that holds it has been touched
        List<Onnx.GraphProto.Builder> graphs = new ArrayList<>(edits.keySet());
        graphs.sort(Comparator.comparingInt((Onnx.GraphProto.Builder g) -> depths.get(g)).reversed());
        for (Onnx.GraphProto.Builder g : graphs) {
            apply(g, edits.get(g));
        }
        return results;
    }

    /** SparseStorage's form for the tensor, in a scratch graph; null when only dense is possible or smaller. */
    private Onnx.GraphProto sparseForm(Request r) {
        Onnx.TensorProto.Builder t = r.tensor;
        String name = r.name;
        if (!allowed || t.getDataType() != OnnxTensors.FLOAT || name.isEmpty()) {
            return null;
        }
        if (r.constantNode < 0 && isGraphInput(r.graph, name)) {
            return null;
        }
        if (mode == SparseMode.INITIALIZER && r.depth > 0) {
            // ONNX Runtime 1.23 rejects a subgraph's sparse initializer unless its indices are int64, which
            // SparseStorage narrows; a dense tensor there is both valid and smaller than int64 indices would allow
            return null;
        }
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        OnnxGraphBuilder scratch = new OnnxGraphBuilder("scratch");
        ExportReport.StoredTensor stored = SparseStorage.add(scratch, name, dims, r.values, mode);
        if (stored.storage() == SparseMode.NONE) {
            return null;
        }
        Onnx.GraphProto form = scratch.proto().build();
        Set<String> added = new HashSet<>();
        collectNames(form, added);
        added.remove(name);
        for (String n : added) {
            if (usedNames.contains(n)) {
                return null;
            }
        }
        usedNames.addAll(added);
        return form;
    }

    private static long formBytes(Onnx.GraphProto form) {
        long bytes = 0;
        for (Onnx.TensorProto t : form.getInitializerList()) {
            bytes += CodedOutputStream.computeMessageSize(INITIALIZER_FIELD, t);
        }
        for (Onnx.NodeProto n : form.getNodeList()) {
            bytes += CodedOutputStream.computeMessageSize(NODE_FIELD, n);
        }
        for (Onnx.SparseTensorProto s : form.getSparseInitializerList()) {
            bytes += CodedOutputStream.computeMessageSize(Onnx.GraphProto.SPARSE_INITIALIZER_FIELD_NUMBER, s);
        }
        return bytes;
    }

    private static void apply(Onnx.GraphProto.Builder graph, List<Edit> edits) {
        // Constant nodes from the last to the first, so earlier indices stay valid
        List<Edit> constants = new ArrayList<>(edits.stream().filter(e -> e.constantNode >= 0).toList());
        constants.sort(Comparator.comparingInt(Edit::constantNode).reversed());
        for (Edit e : constants) {
            graph.removeNode(e.constantNode);
            List<Onnx.NodeProto> nodes = e.form.getNodeList();
            for (int i = nodes.size() - 1; i >= 0; i--) {
                graph.addNode(e.constantNode, nodes.get(i));
            }
        }
        Set<String> replaced = new HashSet<>();
        List<Onnx.NodeProto> rebuilds = new ArrayList<>();
        for (Edit e : edits) {
            if (e.constantNode < 0) {
                replaced.add(e.name);
                rebuilds.addAll(e.form.getNodeList());
            }
        }
        for (int i = graph.getInitializerCount() - 1; i >= 0; i--) {
            if (replaced.contains(graph.getInitializer(i).getName())) {
                graph.removeInitializer(i);
            }
        }
        for (int i = rebuilds.size() - 1; i >= 0; i--) {
            graph.addNode(0, rebuilds.get(i));
        }
        for (Edit e : edits) {
            graph.addAllInitializer(e.form.getInitializerList());
            graph.addAllSparseInitializer(e.form.getSparseInitializerList());
        }
    }

    private static boolean isGraphInput(Onnx.GraphProto.Builder graph, String name) {
        for (Onnx.ValueInfoProto input : graph.getInputList()) {
            if (input.getName().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** The default ("" or "ai.onnx") domain's opset version, 0 when the model imports none. */
    private static long defaultOpset(Onnx.ModelProto.Builder model) {
        for (Onnx.OperatorSetIdProto opset : model.getOpsetImportList()) {
            if (opset.getDomain().isEmpty() || opset.getDomain().equals("ai.onnx")) {
                return opset.getVersion();
            }
        }
        return 0;
    }

    /** Every value name a graph and its subgraphs define or use (subgraphs see their outer scope's names). */
    private static void collectNames(Onnx.GraphProto graph, Set<String> names) {
        graph.getInitializerList().forEach(t -> names.add(t.getName()));
        graph.getSparseInitializerList().forEach(s -> names.add(s.getValues().getName()));
        graph.getInputList().forEach(v -> names.add(v.getName()));
        graph.getOutputList().forEach(v -> names.add(v.getName()));
        for (Onnx.NodeProto node : graph.getNodeList()) {
            names.addAll(node.getInputList());
            names.addAll(node.getOutputList());
            for (Onnx.AttributeProto a : node.getAttributeList()) {
                if (a.hasG()) {
                    collectNames(a.getG(), names);
                }
                a.getGraphsList().forEach(g -> collectNames(g, names));
            }
        }
    }
}
