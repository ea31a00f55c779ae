/** iSCSI backend: LUNs on an array (issue 8). */
package org.xsm.iscsi;
