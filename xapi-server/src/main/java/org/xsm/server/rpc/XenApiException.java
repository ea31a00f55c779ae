package org.xsm.server.rpc;

import java.util.List;

/**
 * A XenAPI error: a code such as {@code HANDLE_INVALID} and its string parameters, sent as {@code
 * ErrorDescription} (XML-RPC) or the JSON-RPC error.
 */
public class XenApiException extends Exception {
  private static final long serialVersionUID = 1L;
  private final String code;
  private final List<String> params;

  public XenApiException(String code, String... params) {
    this(code, List.of(params));
  }

  public XenApiException(String code, List<String> params) {
    super(code + (params.isEmpty() ? "" : " " + params));
    this.code = code;
    this.params = List.copyOf(params);
  }

  public String code() {
    return code;
  }

  public List<String> params() {
    return params;
  }

  /** Code first, then the parameters: the wire's ErrorDescription. */
  public List<String> errorDescription() {
    return java.util.stream.Stream.concat(java.util.stream.Stream.of(code), params.stream())
        .toList();
  }
}
