/**
 * SMAPI: the storage plugin interface of xsm, what xapi's SMAPIv1 offers, typed.
 *
 * <p>A backend implements {@link org.xsm.api.SmDriver} and registers it for {@link
 * java.util.ServiceLoader} in {@code META-INF/services/org.xsm.api.SmDriver}. The driver describes
 * itself with {@link org.xsm.api.DriverInfo}; {@link org.xsm.api.SmDriver#attach} gives an {@link
 * org.xsm.api.Sr}, on which VDIs are created, snapshotted, cloned, attached and activated; an
 * activated VDI is a {@link org.xsm.api.VdiDevice}, the only way anything above the plugins reads
 * and writes disk data. Every failure is an {@link org.xsm.api.SmException} with a stable {@link
 * org.xsm.api.SmError} code; operations a driver does not advertise fail with {@link
 * org.xsm.api.SmError#UNIMPLEMENTED} and the message "This driver does not support X".
 *
 * <p>This package depends on the JDK only.
 */
package org.xsm.api;
