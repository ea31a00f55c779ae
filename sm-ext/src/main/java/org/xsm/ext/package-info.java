/** EXT backend: VHD trees in a local directory (issue 3). */
package org.xsm.ext;
