package dev.lacuna.io.statedict;

import java.util.Arrays;

/**
 * One named tensor of a PyTorch {@code state_dict} as a container file stored it.
 *
 * @param name     the {@code state_dict} key
 * @param dtype    the type as the container spells it ({@code F32}, {@code <f4}, {@code |b1}, ...), for messages
 * @param shape    dimensions
 * @param floating whether the stored type is a floating type (only those may hold weights)
 * @param values   the values as float32 (converted from any numeric type; exact for 0/1 masks)
 */
public record StateDictTensor(String name, String dtype, int[] shape, boolean floating, float[] values) {
    public StateDictTensor {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n != values.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " holds " + n
                    + " elements but " + values.length + " were given");
        }
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
