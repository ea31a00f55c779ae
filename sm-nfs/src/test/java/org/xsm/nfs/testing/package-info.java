/** A real nfs-ganesha server for tests and benchmarks, started and stopped by them. */
package org.xsm.nfs.testing;
