package org.xsm.iscsi.array.pdu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PduTest {
  @Test
  void roundTripsHeaderFieldsAndPadsData() throws IOException {
    Pdu p = Pdu.create(Opcode.SCSI_RESPONSE).flags(0x86).byteAt(3, 2);
    p.intAt(16, 0xdeadbeef).longAt(8, Pdu.encodeLun(300)).intAt(44, 123);
    p.data(new byte[] {1, 2, 3, 4, 5}, 5);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    p.write(out);
    byte[] wire = out.toByteArray();
    assertThat(wire).hasSize(48 + 8); // 5 bytes of data padded to 8
    assertThat(wire[7]).isEqualTo((byte) 5); // DataSegmentLength
    Pdu q = Pdu.read(new ByteArrayInputStream(wire), 1024);
    assertThat(q.opcode()).isEqualTo(Opcode.SCSI_RESPONSE);
    assertThat(q.flags()).isEqualTo(0x86);
    assertThat(q.itt()).isEqualTo(0xdeadbeef);
    assertThat(Pdu.decodeLun(q.lunField())).isEqualTo(300);
    assertThat(q.intAt(44)).isEqualTo(123);
    assertThat(Arrays.copyOf(q.data(), q.dataLength())).containsExactly(1, 2, 3, 4, 5);
  }

  @Test
  void immediateBitAndOpcodeAreSeparate() throws IOException {
    byte[] wire = new byte[48];
    wire[0] = 0x41; // immediate SCSI command
    Pdu q = Pdu.read(new ByteArrayInputStream(wire), 0);
    assertThat(q.immediate()).isTrue();
    assertThat(q.opcode()).isEqualTo(Opcode.SCSI_COMMAND);
  }

  @Test
  void lunAddressingFollowsSam() {
    assertThat(Pdu.encodeLun(5)).isEqualTo(0x0005000000000000L);
    assertThat(Pdu.encodeLun(0x1234)).isEqualTo(0x5234000000000000L); // flat space
    for (int lun : new int[] {0, 1, 255, 256, 16383}) {
      assertThat(Pdu.decodeLun(Pdu.encodeLun(lun))).isEqualTo(lun);
    }
  }

  @Test
  void rejectsOversizedSegmentsAndTruncatedPdus() {
    byte[] wire = new byte[48];
    wire[6] = 0x10; // 4096 bytes of data
    assertThatThrownBy(() -> Pdu.read(new ByteArrayInputStream(wire), 1024))
        .hasMessageContaining("exceeds");
    assertThatThrownBy(() -> Pdu.read(new ByteArrayInputStream(new byte[20]), 1024))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void cleanEndOfStreamIsNull() throws IOException {
    assertThat(Pdu.read(new ByteArrayInputStream(new byte[0]), 1024)).isNull();
  }

  @Test
  void textParametersRoundTrip() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("InitiatorName", "iqn.x:y");
    m.put("HeaderDigest", "CRC32C,None");
    byte[] b = TextParameters.encode(m);
    assertThat(b[b.length - 1]).isZero();
    assertThat(TextParameters.parse(b, b.length)).containsExactlyEntriesOf(m);
    byte[] odd = "A=1\0B\0\0C=x=y".getBytes();
    assertThat(TextParameters.parse(odd, odd.length))
        .containsExactly(Map.entry("A", "1"), Map.entry("B", ""), Map.entry("C", "x=y"));
  }
}
