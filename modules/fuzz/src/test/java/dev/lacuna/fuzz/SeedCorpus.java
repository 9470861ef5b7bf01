package dev.lacuna.fuzz;

import dev.lacuna.core.Architecture;
import dev.lacuna.core.CellType;
import dev.lacuna.core.Model;
import dev.lacuna.core.RnnActivation;
import dev.lacuna.core.Vocabulary;
import dev.lacuna.io.ModelCheckpoint;
import dev.lacuna.io.SafetensorsWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the seed corpora in {@code testdata/fuzz} (run with the folder as argument; {@code tools/fuzz --seeds} does
 * it). Seeds are small valid files, one per feature a reader handles, so that the fuzzer starts from inputs that get
 * deep into each reader instead of rediscovering the format from random bytes.
 */
public final class SeedCorpus {
    private SeedCorpus() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "testdata/fuzz");
        writeSafetensorsSeeds(root.resolve("SafetensorsFuzzTestInputs/read"));
        writeCheckpointSeeds(root.resolve("ModelCheckpointFuzzTestInputs/load"));
        writeTextSeeds(root.resolve("CharCorpusFuzzTestInputs/load"));
    }

    private static void writeSafetensorsSeeds(Path dir) throws IOException {
        Files.createDirectories(dir);
        new SafetensorsWriter()
                .addF32("weight", new int[] {2, 3}, new float[] {1, -2, 3.5f, 0, 1e-3f, -7})
                .addU8("weight_mask", new int[] {2, 3}, new byte[] {1, 0, 1, 1, 0, 1})
                .putMetadata("producer", "seed")
                .write(dir.resolve("seed-f32-u8-metadata.safetensors"));
        Files.write(dir.resolve("seed-no-tensors.safetensors"), raw("{}", new byte[0]));
        // Every other dtype the reader converts or keeps raw, and a scalar and an empty tensor.
        byte[] f64 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(1.5).putDouble(-0.25).array();
        byte[] f16 = {0x00, 0x3C, 0x00, (byte) 0xC0}; // 1.0, -2.0
        byte[] bf16 = {(byte) 0x80, 0x3F, 0x00, 0x40}; // 1.0, 2.0
        byte[] data = concat(f64, f16, bf16, new byte[] {1, 0}, new byte[] {5, 0, 0, 0});
        String header = "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2,1],\"data_offsets\":[16,20]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[20,24]},"
                + "\"m\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[24,26]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[26,30]},"
                + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[30,30]}}";
        Files.write(dir.resolve("seed-all-dtypes.safetensors"), raw(header, data));
    }

    private static void writeCheckpointSeeds(Path dir) {
        Vocabulary abc = Vocabulary.of("abc");
        Model lstm = Model.initialize(Architecture.of(CellType.LSTM, 3, 2, 2, 1), abc, 1);
        lstm.setMask("rnn.weight_hh_l0", new boolean[] {true, false, true, true, false, true, true, true,
            true, true, false, true, true, true, true, false});
        lstm.metadata().put("lacuna.method", "gradual");
        ModelCheckpoint.save(lstm, dir.resolve("seed-lstm-masked.safetensors"));

        Architecture biGru = new Architecture(CellType.GRU, 2, 0, 1, 1, true, RnnActivation.TANH, false);
        ModelCheckpoint.save(Model.initialize(biGru, Vocabulary.of("\né"), 2),
                dir.resolve("seed-gru-bidirectional-onehot.safetensors"));

        Architecture rnn = new Architecture(CellType.RNN, 2, 1, 1, 2, false, RnnActivation.RELU, true);
        ModelCheckpoint.save(Model.initialize(rnn, Vocabulary.of("xy"), 3), dir.resolve("seed-rnn-2layer.safetensors"));
    }

    private static void writeTextSeeds(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("seed-ascii.txt"), "the whale sees the ship.\nold ahab calls his crew.\n");
        Files.write(dir.resolve("seed-bom-multibyte.txt"),
                ("\uFEFFcafé — 中文 \uD83D\uDC33 naïve\r\nÅngström").getBytes(StandardCharsets.UTF_8));
        Files.writeString(dir.resolve("seed-too-short.txt"), "short");
    }

    private static byte[] raw(String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return out.putLong(json.length).put(json).put(data).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
