package org.xsm.plugins.conformance;

import java.util.Objects;
import org.xsm.api.SmDriver;
import org.xsm.api.SrConfig;

/**
 * What a backend gives the conformance kit for one new SR: the driver under test, a configuration
 * naming new, empty storage, and a backdoor to that storage.
 *
 * @param driver the driver under test
 * @param config names storage no other fixture uses and that holds no SR yet; if the driver
 *     advertises {@code SR_CREATE} the kit creates the SR on it first, otherwise it attaches it as
 *     it is
 * @param backdoor acts on this storage without the driver
 */
public record SrFixture(SmDriver driver, SrConfig config, SrBackdoor backdoor) {
  public SrFixture {
    Objects.requireNonNull(driver, "driver");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(backdoor, "backdoor");
  }
}
