package org.xsm.api;

/**
 * A {@code device_config} key a driver understands, with help text for operators.
 *
 * @param name the key, e.g. {@code path} or {@code server}
 * @param description what the value means, with an example
 * @param required whether SR create/attach fails without it
 */
public record ConfigKey(String name, String description, boolean required) {}
