package org.xsm.iscsi.control;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * The array's iSCSI target, as {@code GET /api/v1/target} reports it.
 *
 * @param portal {@code host:port}
 * @param chap whether logins need CHAP
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record TargetInfo(String iqn, String portal, boolean chap) {}
