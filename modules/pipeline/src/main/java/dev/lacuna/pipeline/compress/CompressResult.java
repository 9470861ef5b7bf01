package dev.lacuna.pipeline.compress;

import java.nio.file.Path;

/**
 * What a {@link CompressJob} run produced.
 *
 * @param report     the report (read back from disk when the outputs were up to date)
 * @param reportFile where the report is
 * @param upToDate   true when nothing was done because the outputs already matched the inputs and settings
 */
public record CompressResult(CompressReport report, Path reportFile, boolean upToDate) {
}
