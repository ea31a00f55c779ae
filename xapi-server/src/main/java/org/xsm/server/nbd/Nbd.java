package org.xsm.server.nbd;

/**
 * Numbers of the NBD protocol (NetworkBlockDevice/nbd {@code doc/proto.md}): fixed newstyle
 * handshake, option haggling, simple and structured replies. Only what this server speaks.
 */
final class Nbd {
  private Nbd() {}

  static final long NBDMAGIC = 0x4e42444d41474943L;
  static final long IHAVEOPT = 0x49484156454F5054L;
  static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
  static final int REQUEST_MAGIC = 0x25609513;
  static final int SIMPLE_REPLY_MAGIC = 0x67446698;
  static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

  static final int FLAG_FIXED_NEWSTYLE = 1;
  static final int FLAG_NO_ZEROES = 1 << 1;

  static final int OPT_EXPORT_NAME = 1;
  static final int OPT_ABORT = 2;
  static final int OPT_LIST = 3;
  static final int OPT_STARTTLS = 5;
  static final int OPT_INFO = 6;
  static final int OPT_GO = 7;
  static final int OPT_STRUCTURED_REPLY = 8;
  static final int OPT_LIST_META_CONTEXT = 9;
  static final int OPT_SET_META_CONTEXT = 10;

  static final int REP_ACK = 1;
  static final int REP_SERVER = 2;
  static final int REP_INFO = 3;
  static final int REP_META_CONTEXT = 4;
  static final int REP_ERR_UNSUP = 0x80000001;
  static final int REP_ERR_INVALID = 0x80000003;
  static final int REP_ERR_TLS_REQD = 0x80000005;
  static final int REP_ERR_UNKNOWN = 0x80000006;

  static final int INFO_EXPORT = 0;
  static final int INFO_BLOCK_SIZE = 3;

  static final int TFLAG_HAS_FLAGS = 1;
  static final int TFLAG_READ_ONLY = 1 << 1;
  static final int TFLAG_SEND_FLUSH = 1 << 2;
  static final int TFLAG_SEND_FUA = 1 << 3;
  static final int TFLAG_SEND_TRIM = 1 << 5;
  static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
  static final int TFLAG_SEND_DF = 1 << 7;
  static final int TFLAG_CAN_MULTI_CONN = 1 << 8;

  static final int CMD_READ = 0;
  static final int CMD_WRITE = 1;
  static final int CMD_DISC = 2;
  static final int CMD_FLUSH = 3;
  static final int CMD_TRIM = 4;
  static final int CMD_WRITE_ZEROES = 6;
  static final int CMD_BLOCK_STATUS = 7;

  static final int CMD_FLAG_FUA = 1;
  static final int CMD_FLAG_REQ_ONE = 1 << 3;

  static final int REPLY_FLAG_DONE = 1;
  static final int REPLY_TYPE_NONE = 0;
  static final int REPLY_TYPE_OFFSET_DATA = 1;
  static final int REPLY_TYPE_BLOCK_STATUS = 5;
  static final int REPLY_TYPE_ERROR = 0x8001;

  static final int STATE_HOLE = 1;
  static final int STATE_ZERO = 2;

  static final int EPERM = 1;
  static final int EIO = 5;
  static final int EINVAL = 22;
  static final int ENOSPC = 28;
  static final int ESHUTDOWN = 108;

  /** The one metadata context, with the id this server gives it. */
  static final String BASE_ALLOCATION = "base:allocation";

  static final int BASE_ALLOCATION_ID = 1;

  /** Largest read or write payload accepted; advertised as the maximum block size. */
  static final int MAX_PAYLOAD_BYTES = 32 * 1024 * 1024;

  /** Largest option payload read during haggling; longer options end the connection. */
  static final int MAX_OPTION_BYTES = 64 * 1024;
}
