package dev.lacuna.core;

/**
 * What a tensor does in the model. Pruning follows N17 §3: input and recurrent matrices and the fully connected
 * head are pruned, biases never; the embedding only on request (an extension Distiller uses, not the paper).
 */
public enum TensorRole {
    EMBEDDING,
    INPUT_WEIGHT,
    RECURRENT_WEIGHT,
    HEAD_WEIGHT,
    BIAS;

    /** N17 shares one threshold per layer type: recurrent-layer matrices versus fully connected ones. */
    public String layerType() {
        return switch (this) {
            case INPUT_WEIGHT, RECURRENT_WEIGHT -> "recurrent";
            case HEAD_WEIGHT -> "fc";
            case EMBEDDING -> "embedding";
            case BIAS -> "bias";
        };
    }
}
