/**
 * ONC RPC v2 over TCP (RFC 5531) and XDR (RFC 4506): record marking, AUTH_SYS, calls matched to
 * replies by xid, timeouts, retransmission and reconnection. JDK only.
 */
package org.xsm.nfs.rpc;
