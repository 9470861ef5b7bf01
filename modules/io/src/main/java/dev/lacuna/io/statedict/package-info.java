/**
 * Import of PyTorch {@code state_dict}s: {@link dev.lacuna.io.statedict.StateDictImporter} infers a Lacuna
 * {@link dev.lacuna.core.Model} from tensor names and shapes; {@link dev.lacuna.io.statedict.SafetensorsModelFormat}
 * is the safetensors {@link dev.lacuna.io.ModelFormat} (Lacuna checkpoints and plain state_dicts).
 */
package dev.lacuna.io.statedict;
