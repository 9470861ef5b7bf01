/**
 * The {@code .lacuna} compressed model format (docs/format.md): {@link dev.lacuna.io.format.LacunaFormat} writes and
 * reads it, {@link dev.lacuna.io.format.EncodingOptions} chooses the precision, and
 * {@link dev.lacuna.io.format.LacunaFileReport} accounts for every byte. Encodings follow Deep Compression (Han,
 * Mao, Dally 2016): relative sparse indices, k-means weight sharing and canonical Huffman coding.
 */
package dev.lacuna.io.format;
