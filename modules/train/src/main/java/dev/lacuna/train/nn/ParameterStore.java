package dev.lacuna.train.nn;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.Model;
import dev.lacuna.core.Tensor;
import dev.lacuna.core.TensorSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Flat parameters, gradients and masks of a {@link Model} on ND4J; a tensor is a run of the flat vectors starting
 * at {@link #offset(String)}.
 *
 * <p>The three flat vectors share one element order: the model's tensors in architecture order, each in PyTorch's
 * row-major layout (gate blocks stacked along the rows). Keeping the model layout internally means the network can
 * hand every weight matrix to BLAS in place, and masks, optimizer state and checkpoints need no reordering. An
 * optimizer and the masking therefore touch each vector in one pass or a handful of calls in total
 * (platform-notes.md, ND4J section).
 */
public final class ParameterStore {
    private final Architecture architecture;
    private final DataType dtype;
    private final INDArray params;
    private final INDArray grads;
    private final INDArray mask;
    private final Map<String, Slot> slots = new LinkedHashMap<>();

    private record Slot(long offset, int[] shape, long length) {
    }

    /** A float32 store holding a copy of the model's weights and masks (a tensor without a mask is all kept). */
    public ParameterStore(Model model) {
        this(model, DataType.FLOAT);
    }

    /**
     * A store of the given precision ({@link DataType#DOUBLE} for gradient checks) holding a copy of the model's
     * weights and masks.
     */
    public ParameterStore(Model model, DataType dtype) {
        if (dtype != DataType.FLOAT && dtype != DataType.DOUBLE) {
            throw new IllegalArgumentException("parameters must be FLOAT or DOUBLE, not " + dtype);
        }
        this.architecture = model.architecture();
        this.dtype = dtype;
        long offset = 0;
        for (TensorSpec spec : architecture.tensors()) {
            slots.put(spec.name(), new Slot(offset, spec.shape(), spec.elementCount()));
            offset += spec.elementCount();
        }
        this.params = Nd4j.create(dtype, offset);
        this.grads = Nd4j.create(dtype, offset);
        this.mask = Nd4j.create(dtype, offset);
        loadWeights(model);
        loadMasks(model);
    }

    /** All parameters as one flat vector (live). */
    public INDArray params() {
        return params;
    }

    /** Gradients, same order as {@link #params()} (live; {@link CharRnnNetwork#backward} overwrites them). */
    public INDArray grads() {
        return grads;
    }

    /** 1 where a weight is kept, 0 where it is pruned; same order as {@link #params()} (live). */
    public INDArray mask() {
        return mask;
    }

    /** Number of parameters. */
    public long size() {
        return params.length();
    }

    /** The element type of the three vectors. */
    public DataType dataType() {
        return dtype;
    }

    /** The architecture whose tensors this store holds. */
    public Architecture architecture() {
        return architecture;
    }

    /** The model's tensor names in architecture order, which is also their order in the flat vectors. */
    public List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(slots.keySet()));
    }

    /** Zeroes every pruned weight: {@code params *= mask}. */
    public void applyMask() {
        params.muli(mask);
    }

    /** Copies the model's weights into {@link #params()}. */
    public void loadWeights(Model model) {
        params.assign(gather(model, (name, t) -> t.data()));
    }

    /** Copies the model's masks into {@link #mask()}; a tensor without a mask is all kept. */
    public void loadMasks(Model model) {
        mask.assign(gather(model, (name, t) -> {
            boolean[] keep = model.mask(name);
            float[] m = new float[t.size()];
            for (int i = 0; i < m.length; i++) {
                m[i] = keep == null || keep[i] ? 1f : 0f;
            }
            return m;
        }));
    }

    /** Writes {@link #params()} into the model's tensors (float32, PyTorch layout); masks are left alone. */
    public void copyTo(Model model) {
        checkArchitecture(model);
        float[] flat = params.toFloatVector();
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            int offset = (int) e.getValue().offset;
            float[] dst = model.tensor(e.getKey()).data();
            for (int i = 0; i < dst.length; i++) {
                // + 0f turns the −0 that masking a negative weight leaves into +0, as Model.applyMasks stores it
                dst[i] = flat[offset + i] + 0f;
            }
        }
    }

    /** Position of a tensor's first element in the flat vectors. */
    int offset(String name) {
        Slot s = slots.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no tensor named " + name);
        }
        return Math.toIntExact(s.offset);
    }

    private interface Extractor {
        float[] values(String name, Tensor tensor);
    }

    private INDArray gather(Model model, Extractor extractor) {
        checkArchitecture(model);
        float[] flat = new float[Math.toIntExact(params.length())];
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            float[] src = extractor.values(e.getKey(), model.tensor(e.getKey()));
            System.arraycopy(src, 0, flat, (int) e.getValue().offset, src.length);
        }
        return Nd4j.createFromArray(flat).castTo(dtype);
    }

    private void checkArchitecture(Model model) {
        if (!model.architecture().equals(architecture)) {
            throw new IllegalArgumentException("model architecture " + model.architecture()
                    + " does not match the store's " + architecture);
        }
    }
}
