package org.xsm.plugins.image;

import java.util.Optional;

/**
 * An image file's identity without its tables (a few small reads whatever the disk size): what
 * listing an SR's tree needs.
 *
 * @param parentFile the parent's base file name, empty without one
 */
public record ImageSummary(
    Optional<String> parentFile, boolean hidden, long virtualSizeBytes, long fileSizeBytes) {}
