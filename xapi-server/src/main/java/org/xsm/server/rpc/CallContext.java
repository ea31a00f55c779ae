package org.xsm.server.rpc;

/**
 * Who is calling: the session reference (null for calls that need none), the user name, and the
 * task the call runs under when it is asynchronous (null otherwise).
 */
public record CallContext(String session, String user, boolean readOnly, String task) {}
