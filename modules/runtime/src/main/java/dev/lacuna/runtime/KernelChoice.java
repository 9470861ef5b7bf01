package dev.lacuna.runtime;

/** How {@link CompiledModel} stores each weight matrix. */
public enum KernelChoice {
    /**
     * Per matrix: sparse when its density is below {@link MatVec#SPARSE_BELOW_DENSITY}, dense otherwise. The
     * crossover was measured on this project's reference machine (docs/runtime.md), not guessed.
     */
    AUTO,
    /** Every matrix in compressed sparse rows, whatever its density. */
    SPARSE,
    /** Every matrix dense (the baseline the sparse path is measured against). */
    DENSE
}
