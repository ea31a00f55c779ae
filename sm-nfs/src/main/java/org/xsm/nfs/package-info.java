/** NFS backend: VHD trees on an NFS export (issue 7). */
package org.xsm.nfs;
