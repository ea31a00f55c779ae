package org.xsm.nfs.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** XDR encoding as RFC 4506 lays it out, and decoding of short or hostile data. */
class XdrTest {
  @Test
  void opaqueIsLengthDataAndPaddingToFourBytes() {
    ByteBuffer b = new XdrWriter().writeOpaque(new byte[] {1, 2, 3, 4, 5}).writeInt(-1).toBuffer();
    assertThat(b.remaining()).isEqualTo(4 + 8 + 4);
    assertThat(b.getInt()).isEqualTo(5);
    byte[] data = new byte[8];
    b.get(data);
    assertThat(data).containsExactly(1, 2, 3, 4, 5, 0, 0, 0);
    assertThat(b.getInt()).isEqualTo(-1);
  }

  @Test
  void valuesRoundTrip() throws Exception {
    ByteBuffer b =
        new XdrWriter(4)
            .writeInt(7)
            .writeLong(0x0123456789abcdefL)
            .writeBoolean(true)
            .writeString("ümlaut")
            .writeFixedOpaque(new byte[] {9, 9})
            .toBuffer();
    XdrReader r = new XdrReader(b);
    assertThat(r.readInt()).isEqualTo(7);
    assertThat(r.readLong()).isEqualTo(0x0123456789abcdefL);
    assertThat(r.readBoolean()).isTrue();
    assertThat(r.readString()).isEqualTo("ümlaut");
    assertThat(r.readFixedOpaque(2)).containsExactly(9, 9);
    assertThat(r.remaining()).isZero();
  }

  @Test
  void opaqueIntoABufferCopiesAndSkipsPadding() throws Exception {
    XdrReader r =
        new XdrReader(new XdrWriter().writeOpaque(new byte[] {1, 2, 3}).writeInt(42).toBuffer());
    ByteBuffer dst = ByteBuffer.allocate(10);
    assertThat(r.readOpaqueInto(dst)).isEqualTo(3);
    assertThat(dst.position()).isEqualTo(3);
    assertThat(r.readInt()).isEqualTo(42);
  }

  @Test
  void shortOrHostileDataFailsWithAMessage() {
    assertThatThrownBy(() -> new XdrReader(ByteBuffer.allocate(2)).readInt())
        .isInstanceOf(XdrException.class)
        .hasMessageContaining("need 4 bytes, 2 left");
    ByteBuffer huge = new XdrWriter().writeInt(0x7fffffff).toBuffer();
    assertThatThrownBy(() -> new XdrReader(huge).readOpaque())
        .isInstanceOf(XdrException.class)
        .hasMessageContaining("exceeds");
    ByteBuffer tooLong = new XdrWriter().writeInt(100).writeInt(0).toBuffer();
    assertThatThrownBy(() -> new XdrReader(tooLong).readOpaqueInto(ByteBuffer.allocate(10)))
        .isInstanceOf(XdrException.class);
    assertThatThrownBy(() -> new XdrReader(new XdrWriter().writeInt(2).toBuffer()).readBoolean())
        .isInstanceOf(XdrException.class)
        .hasMessageContaining("boolean is 2");
  }
}
