package dev.lacuna.io;

import dev.lacuna.core.BadFileException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 as lower-case hex: the project's one content hash, for provenance ({@code lacuna.data_sha256}), the
 * demo corpus check, the Maven plugin's up-to-date key and resume checkpoints' run fingerprints.
 */
public final class Sha256 {
    private Sha256() {
    }

    /** A fresh digest, for callers that feed it piece by piece. */
    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }

    /** The digest's value as hex; the digest is reset. */
    public static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * The hash of a file's content, read in chunks (models and corpora can be large).
     *
     * @throws BadFileException naming the file when it cannot be read
     */
    public static String ofFile(Path file) {
        MessageDigest digest = newDigest();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new BadFileException(file, "cannot read: " + e.getMessage(), e);
        }
        return hex(digest);
    }

    public static String ofBytes(byte[] bytes) {
        return HexFormat.of().formatHex(newDigest().digest(bytes));
    }

    /** The hash of the text's UTF-8 bytes. */
    public static String ofText(String text) {
        return ofBytes(text.getBytes(StandardCharsets.UTF_8));
    }
}
