package dev.lacuna.io;

import dev.lacuna.core.Model;
import java.nio.file.Path;

/** {@link ModelCheckpoint} against the round-trip contract of every model format. */
class SafetensorsCheckpointTest extends AbstractModelFormatRoundTripTest {
    @Override
    void write(Model model, Path file) {
        ModelCheckpoint.save(model, file);
    }

    @Override
    Model read(Path file) {
        return ModelCheckpoint.load(file);
    }
}
