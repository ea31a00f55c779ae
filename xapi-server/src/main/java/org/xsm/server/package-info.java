/**
 * The XenAPI server: wire protocol ({@code rpc}), datamodel and services per class, storage through
 * the SM plugins.
 */
package org.xsm.server;
