package org.xsm.server.session;

/**
 * A local user's salted password hash and role; never part of any XenAPI record.
 *
 * @param role the role XSM_USERS gave (one of xapi's six); what counts at login is the user's
 *     subject's roles
 */
public record Credential(String name, String salt, String hash, String role) {}
