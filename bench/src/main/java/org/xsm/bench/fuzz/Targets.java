package org.xsm.bench.fuzz;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.xsm.iscsi.array.pdu.Pdu;
import org.xsm.iscsi.array.pdu.TextParameters;
import org.xsm.nfs.client.ReplyFuzzTarget;
import org.xsm.plugins.vhd.DynamicHeader;
import org.xsm.plugins.vhd.VhdCreator;
import org.xsm.plugins.vhd.VhdFooter;
import org.xsm.plugins.vhd.VhdFormatException;
import org.xsm.server.model.XenApiException;
import org.xsm.server.rpc.JsonRpcCodec;
import org.xsm.server.rpc.RpcRequest;
import org.xsm.server.rpc.XmlRpcCodec;

/** The parsers fuzzed by {@code ./bench/run fuzz}, each with its seeds and words. */
final class Targets {
  private Targets() {}

  static List<FuzzTarget> all() {
    return List.of(
        xmlRpc(), jsonRpc(), vhdFooter(), vhdHeader(), iscsiPdu(), nfsReply(), new NbdTarget());
  }

  static List<byte[]> words(String... w) {
    List<byte[]> out = new ArrayList<>();
    for (String s : w) {
      out.add(s.getBytes(StandardCharsets.UTF_8));
    }
    return out;
  }

  private static String describe(RpcRequest r) {
    return r.method() + "/" + (r.params() == null ? -1 : r.params().size());
  }

  static FuzzTarget xmlRpc() {
    return new Simple(
        "xmlrpc",
        List.of(
            "org/xsm/server/rpc/XmlRpcCodec",
            "org/xsm/server/rpc/XmlRpcRequestHandler",
            "org/xsm/server/rpc/SurrogateReferences"),
        words(
            "<?xml version=\"1.0\"?><methodCall><methodName>session.login_with_password</methodName>"
                + "<params><param><value><string>root</string></value></param><param><value>pw"
                + "</value></param></params></methodCall>",
            "<methodCall><methodName>VM.set_other_config</methodName><params><param><value>"
                + "OpaqueRef:1</value></param><param><value><struct><member><name>k</name><value>"
                + "<array><data><value><i4>7</i4></value><value><int>-3</int></value><value>"
                + "<boolean>1</boolean></value><value><double>1.5</double></value><value>"
                + "<dateTime.iso8601>20261207T10:00:00Z</dateTime.iso8601></value></data></array>"
                + "</value></member></struct></value></param></params></methodCall>"),
        words(
            "<value>",
            "</value>",
            "<struct>",
            "</struct>",
            "<member>",
            "<name>",
            "</name>",
            "<array><data>",
            "</data></array>",
            "<i8>",
            "<int>99999999999999999999</int>",
            "<double>1e999</double>",
            "<boolean>2</boolean>",
            "<base64>",
            "<nil/>",
            "<!DOCTYPE x [",
            "<!ENTITY e SYSTEM \"file:///etc/passwd\">",
            "&e;",
            "&#0;",
            "<![CDATA[",
            "]]>",
            "\u00e9",
            "<param>",
            "</param>",
            "<methodName>",
            "<?xml"),
        in -> describe(XmlRpcCodec.decode(in)),
        t -> t instanceof XenApiException);
  }

  static FuzzTarget jsonRpc() {
    return new Simple(
        "jsonrpc",
        List.of("org/xsm/server/rpc/JsonRpcCodec"),
        words(
            "{\"jsonrpc\":\"2.0\",\"method\":\"session.login_with_password\",\"params\":[\"root\","
                + "\"pw\"],\"id\":1}",
            "{\"method\":\"VM.get_all_records\",\"params\":[\"OpaqueRef:1\"],\"id\":\"x\"}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"VDI.create\",\"params\":[\"s\",{\"virtual_size\":"
                + "1048576,\"sharable\":false,\"other_config\":{\"a\":\"b\"},\"tags\":[1.5,null]}],"
                + "\"id\":null}"),
        words(
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\\u0000",
            "\\ud800",
            "null",
            "true",
            "1e309",
            "-0",
            "12345678901234567890",
            "\"params\":",
            "\"method\":",
            "\"id\":",
            "\"jsonrpc\":\"1.0\""),
        in -> describe(JsonRpcCodec.decode(in)),
        t -> t instanceof XenApiException);
  }

  static FuzzTarget vhdFooter() {
    return new Simple(
        "vhd-footer",
        List.of("org/xsm/plugins/vhd/VhdFooter"),
        () -> List.of(VhdCreator.dynamicFooter(64L << 20).encode()),
        words("conectix", "cxsparse", "tap\0", "\u00ff\u00ff\u00ff\u00ff"),
        in -> VhdFooter.decode(in, "fuzz").toString().length() > 0 ? "ok" : "empty",
        t -> t instanceof VhdFormatException);
  }

  static FuzzTarget vhdHeader() {
    return new Simple(
        "vhd-header",
        List.of("org/xsm/plugins/vhd/DynamicHeader"),
        () -> List.of(VhdCreator.dynamicHeader(1536, 32).encode()),
        words("cxsparse", "MacX", "W2ku", "W2ru", "\u0000\u0000\u0002\u0000"),
        in -> DynamicHeader.decode(in, "fuzz").toString().length() > 0 ? "ok" : "empty",
        t -> t instanceof VhdFormatException);
  }

  static FuzzTarget iscsiPdu() {
    return new Simple(
        "iscsi-pdu",
        List.of("org/xsm/iscsi/array/pdu/Pdu", "org/xsm/iscsi/array/pdu/TextParameters"),
        () -> {
          ByteArrayOutputStream o = new ByteArrayOutputStream();
          byte[] text =
              TextParameters.encode(
                  Map.of(
                      "InitiatorName",
                      "iqn.2026-12.org.xsm:fuzz",
                      "SessionType",
                      "Normal",
                      "MaxRecvDataSegmentLength",
                      "262144"));
          Pdu.create(0x03).flags(0x87).data(text, text.length).write(o);
          return List.of(o.toByteArray());
        },
        words(
            "=",
            "\0",
            "AuthMethod=CHAP",
            "CHAP_A=5",
            "MaxBurstLength=",
            "TargetName=",
            "\u0003\u0087"),
        in -> {
          Pdu p = Pdu.read(new ByteArrayInputStream(in), 1 << 18);
          if (p == null) {
            return "eof";
          }
          byte[] d = p.data();
          return "pdu/" + TextParameters.parse(d, p.dataLength()).size();
        },
        t -> t instanceof IOException);
  }

  static FuzzTarget nfsReply() {
    return new Simple(
        "nfs-reply",
        List.of(
            "org/xsm/nfs/rpc/ReplyHeaders",
            "org/xsm/nfs/rpc/XdrReader",
            "org/xsm/nfs/client/Nfs3Xdr"),
        ReplyFuzzTarget::seeds,
        words("\0\0\0\0", "\0\0\0\1", "\u00ff\u00ff\u00ff\u00ff", "\u007f\u00ff\u00ff\u00ff"),
        in -> {
          ReplyFuzzTarget.decode(in);
          return "ok";
        },
        t -> t instanceof IOException);
  }

  /** A target given by its parts. */
  record Simple(
      String name,
      List<String> scope,
      Seeds seedMaker,
      List<byte[]> dictionary,
      Body body,
      Refusal refusal)
      implements FuzzTarget {
    Simple(
        String name,
        List<String> scope,
        List<byte[]> seeds,
        List<byte[]> dictionary,
        Body body,
        Refusal refusal) {
      this(name, scope, () -> seeds, dictionary, body, refusal);
    }

    @Override
    public List<byte[]> seeds() throws Exception {
      return seedMaker.make();
    }

    @Override
    public String run(byte[] input) throws Throwable {
      return body.run(input);
    }

    @Override
    public boolean refusal(Throwable t) {
      return refusal.test(t);
    }
  }

  @FunctionalInterface
  interface Seeds {
    List<byte[]> make() throws Exception;
  }

  @FunctionalInterface
  interface Body {
    String run(byte[] in) throws Throwable;
  }

  @FunctionalInterface
  interface Refusal {
    boolean test(Throwable t);
  }
}
