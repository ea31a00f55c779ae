package org.xsm.server.task;

/**
 * A task's {@code result} field: the XML-RPC {@code <value>} of the call's result, as xapi stores
 * it (clients extract it with a regular expression on {@code <value>(.*)</value>}).
 */
public final class TaskResults {
  private TaskResults() {}

  /** The {@code result} of a task whose call returned {@code v}. */
  public static String encode(Object v) {
    if (v == null || "".equals(v)) {
      return "";
    }
    if (v instanceof java.util.Collection<?> c) {
      // A set of references (VM.import's VMs): an XML-RPC array, as xapi's rpc_of_ref_set.
      StringBuilder out = new StringBuilder("<value><array><data>");
      for (Object x : c) {
        out.append("<value>").append(escape(String.valueOf(x))).append("</value>");
      }
      return out.append("</data></array></value>").toString();
    }
    return "<value>" + escape(String.valueOf(v)) + "</value>";
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
