package org.xsm.server.rpc;

import com.xensource.xenapi.Marshalling;
import com.xensource.xenapi.Types;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Map;
import java.util.TimeZone;
import org.apache.xmlrpc.client.XmlRpcClient;
import org.apache.xmlrpc.client.XmlRpcClientConfigImpl;
import org.apache.xmlrpc.client.XmlRpcClientRequestImpl;
import org.apache.xmlrpc.common.TypeFactoryImpl;
import org.apache.xmlrpc.parser.XmlRpcResponseParser;
import org.apache.xmlrpc.serializer.DefaultXMLWriterFactory;
import org.apache.xmlrpc.serializer.XmlRpcWriter;
import org.apache.xmlrpc.util.SAXParsers;
import org.xml.sax.InputSource;
import org.xml.sax.XMLReader;

/**
 * The wire as the XenServer Java SDK 8.1.0 sees it, built from the SDK's own pieces: its
 * Marshalling and the Apache XML-RPC 3.1.3 writer and response parser it sends and reads with,
 * configured as {@code Connection} configures them (UTC). An independent oracle for the codec.
 */
final class JavaSdkWire {
  private JavaSdkWire() {}

  private static XmlRpcClientConfigImpl config() {
    XmlRpcClientConfigImpl config = new XmlRpcClientConfigImpl();
    config.setTimeZone(TimeZone.getTimeZone("UTC"));
    return config;
  }

  /** The body the SDK posts for {@code method(params)}. */
  static byte[] request(String method, Object... params) throws Exception {
    XmlRpcClientConfigImpl config = config();
    XmlRpcClient client = new XmlRpcClient();
    client.setConfig(config);
    Object[] marshalled = Arrays.stream(params).map(Marshalling::toXMLRPC).toArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new XmlRpcWriter(
            config,
            new DefaultXMLWriterFactory().getXmlWriter(config, out),
            new TypeFactoryImpl(client))
        .write(new XmlRpcClientRequestImpl(config, method, marshalled));
    return out.toByteArray();
  }

  /** What the SDK's XML-RPC client returns for a response body: the value of its one param. */
  static Object response(byte[] body) throws Exception {
    XmlRpcClientConfigImpl config = config();
    XmlRpcClient client = new XmlRpcClient();
    client.setConfig(config);
    XmlRpcResponseParser parser = new XmlRpcResponseParser(config, new TypeFactoryImpl(client));
    XMLReader reader = SAXParsers.newXMLReader();
    reader.setContentHandler(parser);
    reader.parse(new InputSource(new ByteArrayInputStream(body)));
    if (!parser.isSuccess()) {
      throw new AssertionError("Apache XML-RPC read a fault: " + parser.getErrorMessage());
    }
    return parser.getResult();
  }

  /**
   * The SDK's own check of a Status struct ({@code Types.checkResponse}, package-private, as {@code
   * Connection.dispatch} calls it): returns the struct on Success, throws the typed exception on
   * Failure.
   */
  @SuppressWarnings("unchecked")
  static Map<String, Object> checkResponse(Object statusStruct) throws Exception {
    Method check = Types.class.getDeclaredMethod("checkResponse", Map.class);
    check.setAccessible(true);
    try {
      return (Map<String, Object>) check.invoke(null, statusStruct);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }
}
