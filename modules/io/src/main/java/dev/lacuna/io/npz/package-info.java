/**
 * numpy's npz archives: a hardened reader ({@link dev.lacuna.io.npz.NpzFile}, arrays as
 * {@link dev.lacuna.io.npz.NpyArray}), a deterministic writer ({@link dev.lacuna.io.npz.NpzWriter}), and the npz
 * {@link dev.lacuna.io.ModelFormat} ({@link dev.lacuna.io.npz.NpzModelFormat}).
 */
package dev.lacuna.io.npz;
