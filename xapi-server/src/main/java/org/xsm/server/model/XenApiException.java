package org.xsm.server.model;

import java.util.List;
import java.util.stream.Stream;

/**
 * A XenAPI error: a code such as {@code HANDLE_INVALID} and its string parameters, sent as {@code
 * ErrorDescription} (XML-RPC) or the JSON-RPC error.
 */
public class XenApiException extends Exception {
  private static final long serialVersionUID = 1L;
  private final String code;
  private final List<String> params;

  public XenApiException(XenApiError code, String... params) {
    this(code.name(), List.of(params));
  }

  public XenApiException(XenApiError code, List<String> params) {
    this(code.name(), params);
  }

  private XenApiException(String code, List<String> params) {
    super(code + (params.isEmpty() ? "" : " " + params));
    this.code = code;
    this.params = List.copyOf(params);
  }

  /**
   * A failure whose code is decided elsewhere: by the storage layer ({@code SmError.xenApiName()},
   * e.g. {@code SR_BACKEND_FAILURE_109}).
   */
  public static XenApiException withCode(String code, String... params) {
    return new XenApiException(code, List.of(params));
  }

  /** A failure as a client sent or received it: code first, then the parameters. */
  public static XenApiException fromDescription(List<String> description) {
    return new XenApiException(description.get(0), description.subList(1, description.size()));
  }

  public String code() {
    return code;
  }

  /** Whether this is the given server error. */
  public boolean is(XenApiError e) {
    return code.equals(e.name());
  }

  public List<String> params() {
    return params;
  }

  /** Code first, then the parameters: the wire's ErrorDescription. */
  public List<String> errorDescription() {
    return Stream.concat(Stream.of(code), params.stream()).toList();
  }
}
