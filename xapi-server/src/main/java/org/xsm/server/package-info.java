/** XenAPI server (issue 5). */
package org.xsm.server;
