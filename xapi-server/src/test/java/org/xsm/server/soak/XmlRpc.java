package org.xsm.server.soak;

import com.xensource.xenapi.Connection;
import com.xensource.xenapi.Session;
import com.xensource.xenapi.Types;
import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.xmlrpc.XmlRpcException;

/**
 * XenAPI over XML-RPC through the Java SDK's connection (its Apache XML-RPC transport, its
 * encoding: int64 values go as strings, as xapi wants them).
 */
final class XmlRpc implements Rpc {
  private final Calls connection;

  XmlRpc(URL url) {
    this.connection = new Calls(url);
  }

  /** The SDK's connection, its dispatch opened to the soak's calls by name. */
  private static final class Calls extends Connection {
    Calls(URL url) {
      super(url, 300, 5);
    }

    Map<?, ?> send(String method, Object[] params) throws XmlRpcException, Types.XenAPIException {
      return dispatch(method, params);
    }
  }

  @Override
  public String protocol() {
    return "XML-RPC";
  }

  @Override
  public String login(String password) throws Failure, IOException {
    try {
      Session.loginWithPassword(connection, "root", password, "2.21");
      return connection.getSessionReference();
    } catch (Types.XenAPIException e) {
      throw failure(e);
    } catch (XmlRpcException e) {
      throw new IOException("login: " + e.getMessage(), e);
    }
  }

  @Override
  public Object call(String method, Object... params) throws Failure, IOException {
    Object[] encoded = new Object[params.length];
    for (int i = 0; i < params.length; i++) {
      encoded[i] = encode(params[i]);
    }
    try {
      return decode(connection.send(method, encoded).get("Value"));
    } catch (Types.XenAPIException e) {
      throw failure(e);
    } catch (XmlRpcException e) {
      throw new IOException(method + ": " + e.getMessage(), e);
    }
  }

  private static Failure failure(Types.XenAPIException e) {
    List<String> d = new ArrayList<>();
    if (e.errorDescription != null) {
      d.addAll(List.of(e.errorDescription));
    } else {
      d.add(e.getClass().getSimpleName());
    }
    return new Failure(d);
  }

  private static Object encode(Object v) {
    if (v instanceof Long || v instanceof Integer) {
      return String.valueOf(v);
    }
    if (v instanceof Map<?, ?> m) {
      java.util.Map<Object, Object> out = new java.util.HashMap<>();
      m.forEach((k, x) -> out.put(k, encode(x)));
      return out;
    }
    if (v instanceof List<?> l) {
      return l.stream().map(XmlRpc::encode).toArray();
    }
    return v;
  }

  private static Object decode(Object v) {
    if (v instanceof Object[] a) {
      List<Object> out = new ArrayList<>();
      for (Object x : a) {
        out.add(decode(x));
      }
      return out;
    }
    if (v instanceof Map<?, ?> m) {
      java.util.Map<Object, Object> out = new java.util.LinkedHashMap<>();
      m.forEach((k, x) -> out.put(k, decode(x)));
      return out;
    }
    return v;
  }
}
