/**
 * NFS backend (SR type {@code nfs}): VHD trees on an NFSv3 export, spoken to directly. {@link
 * org.xsm.nfs.NfsDriver} is the driver, {@link org.xsm.nfs.NfsImageStore} the image store over the
 * export.
 */
package org.xsm.nfs;
