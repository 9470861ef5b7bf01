package dev.lacuna.io;

import dev.lacuna.core.Model;
import dev.lacuna.io.npz.NpzModelFormat;
import java.nio.file.Path;

/** {@link NpzModelFormat} against the round-trip contract of every model format. */
class NpzModelFormatRoundTripTest extends AbstractModelFormatRoundTripTest {
    private final NpzModelFormat format = new NpzModelFormat();

    @Override
    void write(Model model, Path file) {
        format.write(model, file);
    }

    @Override
    Model read(Path file) {
        return format.read(file);
    }
}
