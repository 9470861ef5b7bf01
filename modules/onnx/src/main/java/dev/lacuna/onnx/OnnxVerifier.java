package dev.lacuna.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.LacunaException;
import dev.lacuna.onnx.proto.Onnx;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Runs ONNX models in ONNX Runtime and compares their outputs with a reference model's or with expected arrays
 * (issue #3, item 6).
 *
 * <p>Inputs not given are drawn at random with a seed, in the declared shapes (symbolic dimensions take
 * {@link #DEFAULT_DIMENSION} unless sized in the options): floats uniform in [−1, 1), integer inputs uniform over
 * the valid rows of the table they index ({@code Gather}'s first data dimension, {@code OneHot}'s depth), so token
 * ids are always in range.
 */
public final class OnnxVerifier {
    /** Size given to a symbolic (or unknown) input dimension when the options do not name it. */
    public static final long DEFAULT_DIMENSION = 4;

    /**
     * What to compare against.
     *
     * @param against  a reference ONNX model run on the same inputs (outputs compared by name), or null
     * @param inputs   input arrays by name; inputs not named are random
     * @param expected expected output arrays by name
     * @param dims     sizes of symbolic input dimensions by name (e.g. {@code time}, {@code batch})
     * @param seed     seed of the random inputs
     */
    public record Options(Path against, Map<String, NdArray> inputs, Map<String, NdArray> expected,
                          Map<String, Long> dims, long seed) {
        public Options {
            inputs = Map.copyOf(inputs);
            expected = Map.copyOf(expected);
            dims = Map.copyOf(dims);
        }

        /** Random inputs with seed 1, no reference. */
        public static Options defaults() {
            return new Options(null, Map.of(), Map.of(), Map.of(), 1);
        }
    }

    /**
     * One output of the verified model.
     *
     * @param shape       its shape
     * @param maxAbsDiff  largest absolute difference from the reference or expected array, or null when there is
     *                    nothing to compare it with
     * @param comparedWith "reference" or "expected", or null
     */
    public record OutputCheck(long[] shape, Double maxAbsDiff, String comparedWith) {
    }

    /**
     * The result of a verification.
     *
     * @param inputs     the inputs used (given or random)
     * @param randomInputs names of the inputs that were drawn at random
     * @param outputs    every output of the model, in declaration order
     * @param maxAbsDiff largest difference over all compared outputs, or null when nothing was compared
     */
    public record Verification(Map<String, NdArray> inputs, Set<String> randomInputs,
                               Map<String, OutputCheck> outputs, Double maxAbsDiff) {
    }

    private OnnxVerifier() {
    }

    /**
     * Runs {@code model} and compares its outputs.
     *
     * @throws BadFileException      when a model cannot be read or ONNX Runtime refuses it
     * @throws InvalidOptionException when given inputs or expected outputs do not fit the model
     */
    public static Verification verify(Path model, Options options) {
        Onnx.ModelProto proto = OnnxFiles.read(model);
        Map<String, NdArray> inputs = new LinkedHashMap<>(options.inputs());
        Set<String> random = new HashSet<>();
        SplittableRandom rng = new SplittableRandom(options.seed());
        for (Onnx.ValueInfoProto input : runtimeInputs(proto.getGraph())) {
            if (!inputs.containsKey(input.getName())) {
                inputs.put(input.getName(), randomInput(proto.getGraph(), input, options.dims(), rng));
                random.add(input.getName());
            }
        }
        Map<String, NdArray> outputs = run(model, inputs);
        Map<String, NdArray> reference = options.against() == null ? Map.of() : run(options.against(), inputs);
        for (String name : options.expected().keySet()) {
            if (!outputs.containsKey(name)) {
                throw new InvalidOptionException("--expect", model + " has no output '" + name + "' (it has "
                        + outputs.keySet() + ")");
            }
        }
        if (options.against() != null && outputs.keySet().stream().noneMatch(reference::containsKey)) {
            throw new InvalidOptionException("--against", options.against() + " has none of the outputs "
                    + outputs.keySet() + " of " + model + " (it has " + reference.keySet() + ")");
        }
        Map<String, OutputCheck> checks = new LinkedHashMap<>();
        Double overall = null;
        for (Map.Entry<String, NdArray> e : outputs.entrySet()) {
            String name = e.getKey();
            NdArray want = options.expected().get(name);
            String source = "expected";
            if (want == null) {
                want = reference.get(name);
                source = "reference";
            }
            Double diff = null;
            if (want != null) {
                if (!Arrays.equals(want.shape(), e.getValue().shape())) {
                    throw new InvalidOptionException(source.equals("expected") ? "--expect" : "--against",
                            "output '" + name + "' has shape " + Arrays.toString(e.getValue().shape()) + " but the "
                                    + source + " one has " + Arrays.toString(want.shape()));
                }
                diff = e.getValue().maxAbsDiff(want);
                overall = overall == null ? diff : Math.max(overall, diff);
            }
            checks.put(name, new OutputCheck(e.getValue().shape(), diff, diff == null ? null : source));
        }
        return new Verification(inputs, random, checks, overall);
    }

    /**
     * Runs a model file once in ONNX Runtime (one intra-op thread, so results are reproducible) and returns every
     * output by name.
     *
     * @throws BadFileException      when ONNX Runtime cannot load the model
     * @throws InvalidOptionException when the inputs do not fit it
     */
    public static Map<String, NdArray> run(Path model, Map<String, NdArray> inputs) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            OrtSession session;
            try {
                session = env.createSession(model.toString(), options);
            } catch (OrtException e) {
                throw new BadFileException(model, "ONNX Runtime cannot load it: " + e.getMessage(), e);
            }
            try (session) {
                return run(env, session, model, inputs);
            }
        } catch (OrtException e) {
            throw new LacunaException("ONNX Runtime failed on " + model + ": " + e.getMessage(), e);
        }
    }

    /** Runs a model held in memory, for tests and callers that never write it out. */
    public static Map<String, NdArray> run(Onnx.ModelProto model, Map<String, NdArray> inputs) {
        Path label = Path.of("<in-memory model>");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            try (OrtSession session = env.createSession(model.toByteArray(), options)) {
                return run(env, session, label, inputs);
            }
        } catch (OrtException e) {
            throw new LacunaException("ONNX Runtime failed on the model: " + e.getMessage(), e);
        }
    }

    private static Map<String, NdArray> run(OrtEnvironment env, OrtSession session, Path model,
                                            Map<String, NdArray> inputs) throws OrtException {
        for (String name : inputs.keySet()) {
            if (!session.getInputNames().contains(name)) {
                throw new InvalidOptionException("--input", model + " has no input '" + name + "' (it has "
                        + session.getInputNames() + ")");
            }
        }
        Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
                NdArray value = inputs.get(e.getKey());
                if (value == null) {
                    throw new InvalidOptionException("--input", model + " needs input '" + e.getKey() + "'");
                }
                feeds.put(e.getKey(), tensor(env, e.getKey(), value, e.getValue()));
            }
            Map<String, NdArray> out = new LinkedHashMap<>();
            try (OrtSession.Result result = session.run(feeds)) {
                for (Map.Entry<String, OnnxValue> e : result) {
                    out.put(e.getKey(), array(e.getKey(), e.getValue()));
                }
            }
            return out;
        } finally {
            feeds.values().forEach(OnnxTensor::close);
        }
    }

    /** Creates the ORT tensor of an input, converting between the float and integer types the model declares. */
    private static OnnxTensor tensor(OrtEnvironment env, String name, NdArray value, NodeInfo info)
            throws OrtException {
        if (!(info.getInfo() instanceof TensorInfo t)) {
            throw new InvalidOptionException("--input", "input '" + name + "' is not a tensor; only tensor inputs "
                    + "are supported");
        }
        long[] shape = value.shape();
        switch (t.type) {
            case FLOAT -> {
                if (!value.isFloat()) {
                    throw new InvalidOptionException("--input", "input '" + name + "' is float32, given int64");
                }
                return OnnxTensor.createTensor(env, FloatBuffer.wrap(value.floats()), shape);
            }
            case INT64 -> {
                if (value.isFloat()) {
                    throw new InvalidOptionException("--input", "input '" + name + "' is int64, given floats");
                }
                return OnnxTensor.createTensor(env, LongBuffer.wrap(value.longs()), shape);
            }
            case INT32 -> {
                if (value.isFloat()) {
                    throw new InvalidOptionException("--input", "input '" + name + "' is int32, given floats");
                }
                int[] ints = new int[value.size()];
                for (int i = 0; i < ints.length; i++) {
                    ints[i] = Math.toIntExact(value.longs()[i]);
                }
                return OnnxTensor.createTensor(env, IntBuffer.wrap(ints), shape);
            }
            default -> throw new InvalidOptionException("--input", "input '" + name + "' has type " + t.type
                    + "; float32, int64 and int32 inputs are supported");
        }
    }

    private static NdArray array(String name, OnnxValue value) throws OrtException {
        if (!(value instanceof OnnxTensor tensor)) {
            throw new LacunaException("output '" + name + "' is not a tensor; only tensor outputs are compared");
        }
        long[] shape = tensor.getInfo().getShape();
        OnnxJavaType type = tensor.getInfo().type;
        return switch (type) {
            case FLOAT -> {
                FloatBuffer b = tensor.getFloatBuffer();
                float[] v = new float[b.remaining()];
                b.get(v);
                yield NdArray.ofFloats(shape, v);
            }
            case DOUBLE -> {
                DoubleBuffer b = tensor.getDoubleBuffer();
                float[] v = new float[b.remaining()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) b.get(i);
                }
                yield NdArray.ofFloats(shape, v);
            }
            case INT64 -> {
                LongBuffer b = tensor.getLongBuffer();
                long[] v = new long[b.remaining()];
                b.get(v);
                yield NdArray.ofLongs(shape, v);
            }
            case INT32 -> {
                IntBuffer b = tensor.getIntBuffer();
                long[] v = new long[b.remaining()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = b.get(i);
                }
                yield NdArray.ofLongs(shape, v);
            }
            default -> throw new LacunaException("output '" + name + "' has type " + type
                    + "; float and integer outputs are compared");
        };
    }

    // ------------------------------------------------------------------ random inputs

    /** Graph inputs a caller must feed: those without an initializer of the same name (IR ≥ 4 default values). */
    private static List<Onnx.ValueInfoProto> runtimeInputs(Onnx.GraphProto graph) {
        Set<String> initialized = new HashSet<>();
        graph.getInitializerList().forEach(t -> initialized.add(t.getName()));
        graph.getSparseInitializerList().forEach(t -> initialized.add(t.getValues().getName()));
        List<Onnx.ValueInfoProto> out = new ArrayList<>();
        for (Onnx.ValueInfoProto input : graph.getInputList()) {
            if (!initialized.contains(input.getName())) {
                out.add(input);
            }
        }
        return out;
    }

    private static NdArray randomInput(Onnx.GraphProto graph, Onnx.ValueInfoProto input, Map<String, Long> dims,
                                       SplittableRandom rng) {
        String name = input.getName();
        if (!input.getType().hasTensorType()) {
            throw new InvalidOptionException("--input", "input '" + name + "' is not a tensor; give it as a file");
        }
        Onnx.TypeProto.Tensor type = input.getType().getTensorType();
        long[] shape = new long[type.getShape().getDimCount()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            Onnx.TensorShapeProto.Dimension d = type.getShape().getDim(i);
            shape[i] = d.hasDimValue() && d.getDimValue() >= 0 ? d.getDimValue()
                    : dims.getOrDefault(d.getDimParam(), DEFAULT_DIMENSION);
            count = Math.multiplyExact(count, shape[i]);
            if (count > OnnxTensors.MAX_ELEMENTS) {
                throw new InvalidOptionException("--dim", "input '" + name + "' would hold more than "
                        + OnnxTensors.MAX_ELEMENTS + " values");
            }
        }
        int n = (int) count;
        int elementType = type.getElemType();
        if (elementType == Onnx.TensorProto.DataType.FLOAT_VALUE) {
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = (float) (rng.nextDouble() * 2 - 1);
            }
            return NdArray.ofFloats(shape, values);
        }
        if (elementType == Onnx.TensorProto.DataType.INT64_VALUE
                || elementType == Onnx.TensorProto.DataType.INT32_VALUE) {
            long rows = indexRange(graph, name);
            long[] values = new long[n];
            for (int i = 0; i < n; i++) {
                values[i] = rng.nextLong(rows);
            }
            return NdArray.ofLongs(shape, values);
        }
        throw new InvalidOptionException("--input", "input '" + name + "' has element type "
                + OnnxTensors.typeName(elementType) + "; give it as a file");
    }

    /** The number of valid ids for an integer input: rows of the Gather table or the OneHot depth it feeds. */
    private static long indexRange(Onnx.GraphProto graph, String input) {
        Map<String, Onnx.TensorProto> initializers = new HashMap<>();
        graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        Map<String, Long> sparseRows = new HashMap<>();
        graph.getSparseInitializerList().forEach(t -> {
            if (t.getDimsCount() > 0) {
                sparseRows.put(t.getValues().getName(), t.getDims(0));
            }
        });
        Map<String, Onnx.NodeProto> producers = new HashMap<>();
        for (Onnx.NodeProto node : graph.getNodeList()) {
            node.getOutputList().forEach(o -> producers.put(o, node));
        }
        for (Onnx.NodeProto node : graph.getNodeList()) {
            if (node.getOpType().equals("Gather") && node.getInputCount() == 2 && node.getInput(1).equals(input)
                    && gatherAxis(node) == 0) {
                Long rows = leadingDimension(node.getInput(0), initializers, sparseRows, producers);
                if (rows != null && rows > 0) {
                    return rows;
                }
            }
            if (node.getOpType().equals("OneHot") && node.getInputCount() >= 2 && node.getInput(0).equals(input)) {
                Onnx.TensorProto depth = initializers.get(node.getInput(1));
                if (depth != null) {
                    long[] value = int64Values(depth);
                    if (value != null && value.length == 1 && value[0] > 0) {
                        return value[0];
                    }
                }
            }
        }
        throw new InvalidOptionException("--input", "cannot tell the valid range of integer input '" + input
                + "' (it feeds no Gather table or OneHot of known size); give it with --input " + input
                + "=FILE.npy");
    }

    private static long gatherAxis(Onnx.NodeProto node) {
        for (Onnx.AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals("axis")) {
                return a.getI();
            }
        }
        return 0;
    }

    /** First dimension of a constant table: an initializer, a sparse initializer or a Reshape to a constant shape. */
    private static Long leadingDimension(String value, Map<String, Onnx.TensorProto> initializers,
                                         Map<String, Long> sparseRows, Map<String, Onnx.NodeProto> producers) {
        Onnx.TensorProto dense = initializers.get(value);
        if (dense != null) {
            return dense.getDimsCount() > 0 ? dense.getDims(0) : null;
        }
        if (sparseRows.containsKey(value)) {
            return sparseRows.get(value);
        }
        Onnx.NodeProto producer = producers.get(value);
        if (producer != null && producer.getOpType().equals("Reshape") && producer.getInputCount() == 2) {
            Onnx.TensorProto shape = initializers.get(producer.getInput(1));
            long[] dims = shape == null ? null : int64Values(shape);
            if (dims != null && dims.length > 0) {
                return dims[0];
            }
        }
        return null;
    }

    private static long[] int64Values(Onnx.TensorProto t) {
        if (t.getDataType() != Onnx.TensorProto.DataType.INT64_VALUE) {
            return null;
        }
        if (t.hasRawData()) {
            LongBuffer b = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
                    .asLongBuffer();
            long[] out = new long[b.remaining()];
            b.get(out);
            return out;
        }
        return t.getInt64DataList().stream().mapToLong(Long::longValue).toArray();
    }
}
