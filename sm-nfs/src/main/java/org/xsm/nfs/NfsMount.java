package org.xsm.nfs;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.NotDirectoryException;
import org.xsm.nfs.client.FileAttributes;
import org.xsm.nfs.client.FileHandle;
import org.xsm.nfs.client.Mount3Client;
import org.xsm.nfs.client.Nfs3Client;
import org.xsm.nfs.client.NfsException;
import org.xsm.nfs.client.Portmapper;

/**
 * An NFSv3 export as this process sees it: a connection to the server's NFS service, the export's
 * root file handle and the server's transfer sizes. What the kernel keeps for a mount, without the
 * kernel.
 *
 * @param client the connection (shared; reconnects by itself)
 * @param server the server's host name or address
 * @param exportPath the exported path as MOUNT knows it
 * @param root the export's root handle
 * @param readSize the READ size to use (the server's preferred size, at most 1 MiB)
 * @param writeSize the WRITE size to use (the server's preferred size, at most 1 MiB)
 */
public record NfsMount(
    Nfs3Client client,
    String server,
    String exportPath,
    FileHandle root,
    int readSize,
    int writeSize) {
  private static final int MAX_TRANSFER = 1 << 20;

  /** The MOUNT port, from the options or the portmapper. */
  static InetSocketAddress mountd(String server, NfsOptions options) throws IOException {
    int port =
        options.mountPort() > 0
            ? options.mountPort()
            : Portmapper.getPort(
                server,
                options.portmapperPort(),
                Mount3Client.PROGRAM,
                Mount3Client.VERSION,
                options.rpc());
    return new InetSocketAddress(server, port);
  }

  /** The NFS port, from the options or the portmapper. */
  static InetSocketAddress nfsd(String server, NfsOptions options) throws IOException {
    int port =
        options.nfsPort() > 0
            ? options.nfsPort()
            : Portmapper.getPort(
                server,
                options.portmapperPort(),
                Nfs3Client.PROGRAM,
                Nfs3Client.VERSION,
                options.rpc());
    return new InetSocketAddress(server, port);
  }

  /**
   * Mounts an export on a connection of its own, for tools and benchmarks; close it with {@code
   * client().close()}.
   */
  public static NfsMount open(String server, String exportPath, NfsOptions options)
      throws IOException {
    Nfs3Client c = Nfs3Client.connect(nfsd(server, options), options.rpc());
    try {
      return mount(c, server, exportPath, options);
    } catch (IOException e) {
      c.close();
      throw e;
    }
  }

  /**
   * Mounts an export over a client already connected to the server's NFS service.
   *
   * @throws IOException if MOUNT refuses the path or the server cannot be reached
   */
  static NfsMount mount(Nfs3Client client, String server, String exportPath, NfsOptions options)
      throws IOException {
    FileHandle root = root(client, server, exportPath, options);
    Nfs3Client.FsInfo info = client.fsinfo(root);
    int rsize = clamp(info.readPreferred(), info.readMax());
    int wsize = clamp(info.writePreferred(), info.writeMax());
    return new NfsMount(client, server, exportPath, root, rsize, wsize);
  }

  /**
   * The handle of {@code path}: MNT of the path itself, or else of the longest exported path it
   * lies under, followed by LOOKUPs of the rest (as a kernel mount of a subdirectory of an export).
   */
  private static FileHandle root(Nfs3Client client, String server, String path, NfsOptions options)
      throws IOException {
    InetSocketAddress mountd = mountd(server, options);
    try {
      return Mount3Client.mount(mountd, path, options.rpc());
    } catch (NfsException refused) {
      String best = null;
      for (String e : Mount3Client.exports(mountd, options.rpc())) {
        String prefix = e.endsWith("/") ? e : e + "/";
        if (path.startsWith(prefix) && (best == null || e.length() > best.length())) {
          best = e;
        }
      }
      if (best == null) {
        throw refused;
      }
      FileHandle dir = Mount3Client.mount(mountd, best, options.rpc());
      for (String part : path.substring(best.length()).split("/")) {
        if (!part.isEmpty()) {
          Nfs3Client.Entry entry = client.lookup(dir, part);
          if (!client.getattr(entry.handle()).isDirectory()) {
            throw new NotDirectoryException(server + ":" + path);
          }
          dir = entry.handle();
        }
      }
      return dir;
    }
  }

  private static int clamp(int preferred, int max) {
    int size = preferred > 0 ? preferred : max;
    if (max > 0) {
      size = Math.min(size, max);
    }
    size = Math.min(size, MAX_TRANSFER);
    return Math.max(size, 4096);
  }

  /**
   * The handle of a directory under the export's root ({@code a/b/c}), made if missing and {@code
   * create}.
   *
   * @throws java.nio.file.NoSuchFileException if a component is missing and not {@code create}
   */
  public FileHandle directory(String relativePath, boolean create) throws IOException {
    FileHandle dir = root;
    for (String part : relativePath.split("/")) {
      if (part.isEmpty()) {
        continue;
      }
      if (create) {
        dir = client.mkdir(dir, part, 0755, true);
      } else {
        Nfs3Client.Entry e = client.lookup(dir, part);
        FileAttributes a = e.attributes() != null ? e.attributes() : client.getattr(e.handle());
        if (!a.isDirectory()) {
          throw new NotDirectoryException(describe(relativePath));
        }
        dir = e.handle();
      }
    }
    return dir;
  }

  /** An nfs:// URL of a path under the export, for messages. */
  public String describe(String relativePath) {
    String rel = relativePath.isEmpty() ? "" : "/" + relativePath;
    return "nfs://" + server + exportPath + rel;
  }

  /** An image store over a directory of this export. */
  public NfsImageStore store(FileHandle dir, String relativePath) {
    return new NfsImageStore(this, dir, describe(relativePath));
  }
}
