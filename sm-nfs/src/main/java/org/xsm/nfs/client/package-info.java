/**
 * An NFSv3 client (RFC 1813) over {@link org.xsm.nfs.rpc.RpcClient}: the portmapper, MOUNT v3 and
 * the NFS procedures the NFS backend needs.
 */
package org.xsm.nfs.client;
