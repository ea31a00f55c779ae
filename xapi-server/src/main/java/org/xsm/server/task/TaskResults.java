package org.xsm.server.task;

/**
 * A task's {@code result} field: the XML-RPC {@code <value>} of the call's result, as xapi stores
 * it (clients extract it with a regular expression on {@code <value>(.*)</value>}).
 */
final class TaskResults {
  private TaskResults() {}

  static String encode(Object v) {
    if (v == null || "".equals(v)) {
      return "";
    }
    return "<value>" + escape(String.valueOf(v)) + "</value>";
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
