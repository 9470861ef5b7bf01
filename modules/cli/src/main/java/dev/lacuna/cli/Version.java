package dev.lacuna.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The toolkit version, filtered into the jar at build time; recorded in every model the CLI writes. */
final class Version implements IVersionProvider {
    private static final String CURRENT = load();

    static String current() {
        return CURRENT;
    }

    @Override
    public String[] getVersion() {
        return new String[] {"lacuna " + CURRENT};
    }

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
