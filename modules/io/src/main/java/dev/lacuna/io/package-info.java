/**
 * Checkpoint files: the safetensors container ({@link dev.lacuna.io.SafetensorsFile},
 * {@link dev.lacuna.io.SafetensorsWriter}), Lacuna's checkpoint format on top of it
 * ({@link dev.lacuna.io.ModelCheckpoint}) and the project's one atomic-write helper ({@link dev.lacuna.io.AtomicFiles}).
 */
package dev.lacuna.io;
