package org.xsm.plugins.image;

import java.util.Optional;

/**
 * What {@code xsm img info} reports of one image file, whatever its format.
 *
 * @param parent the parent's file name in the same store, empty without one
 */
public record ImageInfo(
    ImageFormat format,
    long virtualSizeBytes,
    long physicalSizeBytes,
    Optional<String> parent,
    boolean hidden,
    int chainDepth) {}
