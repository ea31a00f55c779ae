/** SMAPI: the storage plugin interface (issue 3). */
package org.xsm.api;
