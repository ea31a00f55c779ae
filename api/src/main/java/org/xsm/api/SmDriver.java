package org.xsm.api;

import java.util.List;

/**
 * A storage backend, found with {@link java.util.ServiceLoader}: the entry point of a plugin.
 * Implementations have a public no-argument constructor and are thread-safe; SR-level state lives
 * in the {@link Sr} objects they hand out.
 */
public interface SmDriver {
  /** The version of this SPI; drivers state the one they were written for. */
  String API_VERSION = "1.0";

  /** What the driver is and can do. */
  DriverInfo info();

  /**
   * Creates a new SR on the storage that {@code config} names ({@code sr_create}). The SR is left
   * detached.
   *
   * @param sizeBytes the requested size, or 0 for all the storage offers
   * @throws SmException {@link SmError#BAD_REQUEST} for bad or missing configuration, {@link
   *     SmError#SR_IN_USE} if the storage already holds an SR
   */
  default void create(SrConfig config, long sizeBytes) throws SmException {
    throw SmException.unsupported("SR create");
  }

  /**
   * Destroys a detached, empty SR ({@code sr_delete}).
   *
   * @throws SmException {@link SmError#SR_NOT_EMPTY} if it still holds VDIs
   */
  default void delete(SrConfig config) throws SmException {
    throw SmException.unsupported("SR delete");
  }

  /**
   * Lists the SRs found on the storage that {@code deviceConfig} names ({@code sr_probe}).
   *
   * @param deviceConfig the configuration without an SR UUID
   */
  default List<ProbeResult> probe(java.util.Map<String, String> deviceConfig) throws SmException {
    throw SmException.unsupported("SR probe");
  }

  /**
   * Attaches an SR ({@code sr_attach}): afterwards its VDIs can be used through the returned object
   * until {@link Sr#detach()}. An SR is attached at most once at a time per host; an interrupted
   * operation from before a crash is rolled back or finished here.
   *
   * @throws SmException {@link SmError#SR_UNAVAILABLE} if the storage is not there or holds no such
   *     SR, {@link SmError#SR_IN_USE} if it is attached already
   */
  Sr attach(SrConfig config) throws SmException;
}
