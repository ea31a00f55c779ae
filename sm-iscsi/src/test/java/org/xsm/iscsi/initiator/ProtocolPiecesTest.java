package org.xsm.iscsi.initiator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The protocol pieces that need no target: text keys, CHAP, sense decoding, PDU framing. */
class ProtocolPiecesTest {

  @Test
  void chapResponseMatchesAnIndependentMd5() throws Exception {
    // expected value computed with Python's hashlib.md5(bytes([7]) + secret + challenge)
    assertThat(Chap.response("7", "secret-of-16chr", "0x00112233445566778899aabbccddeeff"))
        .isEqualTo("0xb084e9f7b8248d278a1326f5d37689b5");
    assertThatThrownBy(() -> Chap.response("300", "s", "0x00"))
        .hasMessageContaining("outside 0..255");
    assertThatThrownBy(() -> Chap.response("1", "s", "zz")).hasMessageContaining("CHAP_C");
  }

  @Test
  void textKeysRoundTripAndKeepOrder() throws Exception {
    Map<String, String> keys = new LinkedHashMap<>();
    keys.put("TargetName", "iqn.a");
    keys.put("TargetAddress", "1.2.3.4:3260,1");
    ByteBuffer encoded = TextKeys.encode(keys);
    assertThat(new String(encoded.array(), StandardCharsets.UTF_8))
        .isEqualTo("TargetName=iqn.a\0TargetAddress=1.2.3.4:3260,1\0");
    assertThat(TextKeys.decode(encoded)).containsExactlyEntriesOf(keys);
    assertThatThrownBy(() -> TextKeys.decode(ByteBuffer.wrap("novalue\0".getBytes())))
        .hasMessageContaining("without a key");
  }

  @Test
  void senseDataFixedAndDescriptorFormats() throws Exception {
    byte[] fixed = new byte[18];
    fixed[0] = 0x70;
    fixed[2] = 0x05;
    fixed[12] = 0x21;
    SenseData s = SenseData.decode(ByteBuffer.wrap(fixed));
    assertThat(s).isEqualTo(new SenseData(5, 0x21, 0));
    assertThat(s.toString())
        .isEqualTo(
            "ILLEGAL REQUEST: logical block address out of range"
                + " (sense key 0x5, ASC 0x21, ASCQ 0x00)");
    byte[] descriptor = {0x72, 0x06, 0x29, 0x01, 0, 0, 0, 0};
    assertThat(SenseData.decode(ByteBuffer.wrap(descriptor))).isEqualTo(new SenseData(6, 0x29, 1));
    assertThatThrownBy(() -> SenseData.decode(ByteBuffer.wrap(new byte[] {0x10, 0, 0})))
        .hasMessageContaining("cannot be decoded");
  }

  @Test
  void pduFramingPadsAndReadsBack() throws Exception {
    Pdu pdu = Pdu.request(Pdu.TEXT_REQUEST, false);
    pdu.initiatorTaskTag(0x1234);
    pdu.data(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5}));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    pdu.writeTo(out);
    byte[] wire = out.toByteArray();
    assertThat(wire).hasSize(48 + 8);
    assertThat(wire[7]).isEqualTo((byte) 5);
    Pdu back = Pdu.readFrom(new ByteArrayInputStream(wire));
    assertThat(back.opcode()).isEqualTo(Pdu.TEXT_REQUEST);
    assertThat(back.initiatorTaskTag()).isEqualTo(0x1234);
    assertThat(back.dataSegmentLength()).isEqualTo(5);
    byte[] truncated = java.util.Arrays.copyOf(wire, 50);
    assertThatThrownBy(() -> Pdu.readFrom(new ByteArrayInputStream(truncated)))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void lunEncoding() {
    assertThat(ScsiPdus.encodeLun(1)).isEqualTo(0x0001_0000_0000_0000L);
    assertThat(ScsiPdus.encodeLun(300)).isEqualTo(0x412c_0000_0000_0000L);
    assertThatThrownBy(() -> ScsiPdus.encodeLun(20000))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void portalParsing() {
    assertThat(InitiatorConfig.forPortal("10.0.0.1", "iqn.x").port()).isEqualTo(3260);
    InitiatorConfig c = InitiatorConfig.forPortal("host.example:3261", "iqn.x");
    assertThat(c.host()).isEqualTo("host.example");
    assertThat(c.port()).isEqualTo(3261);
    InitiatorConfig v6 = InitiatorConfig.forPortal("[::1]:3262", "iqn.x");
    assertThat(v6.host()).isEqualTo("::1");
    assertThat(v6.port()).isEqualTo(3262);
    assertThat(v6.portal()).isEqualTo("[::1]:3262");
    assertThatThrownBy(() -> InitiatorConfig.forPortal("h:x", "iqn.x"))
        .hasMessageContaining("bad port");
  }
}
