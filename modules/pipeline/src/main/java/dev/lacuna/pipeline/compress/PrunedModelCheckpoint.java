package dev.lacuna.pipeline.compress;

import dev.lacuna.core.BadFileException;
import dev.lacuna.core.InvalidOptionException;
import dev.lacuna.core.Model;
import dev.lacuna.core.TensorSpec;
import dev.lacuna.io.SafetensorsDType;
import dev.lacuna.io.SafetensorsFile;
import dev.lacuna.io.SafetensorsTensor;
import dev.lacuna.io.SafetensorsWriter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The result of a compress job's finished pruning stage, kept while its trained quantization stage runs, so that a
 * resumed job skips the pruning (issue #8 item 4). Holds the pruned weights bit for bit and the masks, and the job's
 * input hash, which covers everything the pruning depended on (model and data bytes, method, sparsity, steps, seed).
 *
 * <p>The weights are restored into the job's freshly read input model rather than loaded as a model of their own,
 * so the metadata, and with it the output bytes, are those of an uninterrupted job.
 */
final class PrunedModelCheckpoint {
    static final String FORMAT = "lacuna-compress-pruned/1";
    static final String FORMAT_KEY = "lacuna.format";
    static final String HASH_KEY = "lacuna.compress.input_hash";
    static final String WEIGHT_PREFIX = "weight.";
    static final String MASK_PREFIX = "mask.";

    private PrunedModelCheckpoint() {
    }

    /** Writes the pruned model's tensors and masks atomically. */
    static void write(Model pruned, String inputHash, Path target) {
        SafetensorsWriter writer = new SafetensorsWriter().putMetadata(FORMAT_KEY, FORMAT)
                .putMetadata(HASH_KEY, inputHash);
        for (TensorSpec spec : pruned.architecture().tensors()) {
            float[] values = pruned.tensor(spec.name()).data();
            writer.addF32(WEIGHT_PREFIX + spec.name(), new int[] {values.length}, values);
            boolean[] keep = pruned.mask(spec.name());
            if (keep != null) {
                byte[] bytes = new byte[keep.length];
                for (int i = 0; i < keep.length; i++) {
                    bytes[i] = (byte) (keep[i] ? 1 : 0);
                }
                writer.addU8(MASK_PREFIX + spec.name(), new int[] {bytes.length}, bytes);
            }
        }
        writer.write(target);
    }

    /**
     * Puts the saved weights and masks into {@code input}, the job's input model as read from its file. Everything
     * is checked before the model changes.
     *
     * @throws InvalidOptionException naming {@code resume} when the file was written by a job with other inputs
     * @throws BadFileException       when the file is damaged or does not fit the model
     */
    static void restore(Path file, String inputHash, Model input) {
        SafetensorsFile content = SafetensorsFile.read(file);
        Map<String, String> meta = content.metadata();
        if (!FORMAT.equals(meta.get(FORMAT_KEY))) {
            throw new BadFileException(file, "is not a pruned-stage checkpoint of a compress job: metadata "
                    + FORMAT_KEY + " is " + meta.get(FORMAT_KEY) + ", expected " + FORMAT);
        }
        if (!inputHash.equals(meta.get(HASH_KEY))) {
            throw new InvalidOptionException("resume", file + " was written by a job with another model, training"
                    + " data or settings; delete it or run without resume");
        }
        Map<String, SafetensorsTensor> tensors = content.tensors();
        Map<String, boolean[]> masks = new LinkedHashMap<>();
        for (TensorSpec spec : input.architecture().tensors()) {
            check(file, tensors.get(WEIGHT_PREFIX + spec.name()), WEIGHT_PREFIX + spec.name(), SafetensorsDType.F32,
                    spec.elementCount());
            SafetensorsTensor mask = tensors.get(MASK_PREFIX + spec.name());
            if (mask != null) {
                check(file, mask, MASK_PREFIX + spec.name(), SafetensorsDType.U8, spec.elementCount());
                masks.put(spec.name(), keep(file, mask));
            }
        }
        int expected = input.architecture().tensors().size() + masks.size();
        if (tensors.size() != expected) {
            throw new BadFileException(file, "holds " + tensors.size() + " tensors, of which only " + expected
                    + " belong to the model");
        }
        input.removeMasks();
        for (TensorSpec spec : input.architecture().tensors()) {
            float[] saved = tensors.get(WEIGHT_PREFIX + spec.name()).toFloats();
            System.arraycopy(saved, 0, input.tensor(spec.name()).data(), 0, saved.length);
        }
        masks.forEach(input::setMask);
    }

    private static void check(Path file, SafetensorsTensor t, String name, SafetensorsDType dtype, long count) {
        if (t == null) {
            throw new BadFileException(file, "has no tensor '" + name + "'");
        }
        if (t.dtype() != dtype || t.elementCount() != count) {
            throw new BadFileException(file, "tensor '" + name + "' must be " + dtype + " with " + count
                    + " values, found " + t.dtype() + " with " + t.elementCount());
        }
    }

    private static boolean[] keep(Path file, SafetensorsTensor mask) {
        ByteBuffer data = mask.data();
        boolean[] keep = new boolean[data.remaining()];
        for (int i = 0; i < keep.length; i++) {
            byte b = data.get(i);
            if (b != 0 && b != 1) {
                throw new BadFileException(file, "mask '" + mask.name() + "' holds " + (b & 0xff) + " at " + i
                        + ", expected 0 or 1");
            }
            keep[i] = b == 1;
        }
        return keep;
    }
}
