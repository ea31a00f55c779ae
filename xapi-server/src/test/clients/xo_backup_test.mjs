// Xen Orchestra's delta backup with NBD + CBT and its replication, through its connector (npm
// xen-api 4.7.7): VDI.enable_cbt, snapshots, VDI.list_changed_blocks, NBD reads of exactly the
// changed 64 KiB blocks of the newer snapshot over TLS (the certificate and subject of
// VDI.get_nbd_info, as XO's NBD client requires them), export with base= through getResource,
// replication as XO's continuous replication does it (a full export imported into a new VDI, then
// each delta VHD PUT through putResource onto a clone of the previous replica; the replica equals
// the source byte for byte), VDI.data_destroy of the older snapshot (its tracking stays for the next
// cycle) and a second cycle from it. The NBD client is a minimal one written here (fixed newstyle,
// STARTTLS, GO, READ, WRITE, FLUSH, DISC); the VM's writes between snapshots go through it too.
//
// usage: node xo_backup_test.mjs URL USER PASSWORD
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { Readable } from 'node:stream'
import tls from 'node:tls'

const [url, user, password] = process.argv.slice(2)
if (password === undefined) {
  console.log('usage: node xo_backup_test.mjs URL USER PASSWORD')
  process.exit(2)
}

let createClient
try {
  ;({ createClient } = await import('xen-api'))
} catch (error) {
  console.log(`FAIL: cannot load the npm package xen-api (${error.message}); run 'npm ci'`)
  process.exit(2)
}

class CheckFailed extends Error {}
function check(cond, what) {
  if (!cond) throw new CheckFailed(what)
}

const K64 = 64 * 1024
const MIB = 1024 * 1024
const SIZE = 8 * MIB

// ---- a minimal NBD client ----

const IHAVEOPT = Buffer.from('IHAVEOPT')
const OPT_STARTTLS = 5
const OPT_GO = 7
const REP_ACK = 1
const REP_INFO = 3
const REP_ERR_TLS_REQD = 0x80000005
const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3 }

// Reads exact byte counts from a socket that may be swapped for its TLS wrapper.
class Reader {
  #chunks = []
  #length = 0
  #waiting = null
  #error = null
  attach(socket) {
    socket.on('data', c => {
      this.#chunks.push(c)
      this.#length += c.length
      this.#wake()
    })
    socket.on('error', e => {
      this.#error = e
      this.#wake()
    })
    socket.on('end', () => {
      this.#error ??= new Error('the NBD server closed the connection')
      this.#wake()
    })
  }
  #wake() {
    const w = this.#waiting
    if (w !== null && (this.#length >= w.n || this.#error !== null)) {
      this.#waiting = null
      w.resolve()
    }
  }
  async read(n) {
    while (this.#length < n) {
      if (this.#error !== null) throw this.#error
      await new Promise(resolve => {
        this.#waiting = { n, resolve }
        this.#wake()
      })
    }
    const all = Buffer.concat(this.#chunks)
    this.#chunks = all.length > n ? [all.subarray(n)] : []
    this.#length -= n
    return all.subarray(0, n)
  }
}

class NbdClient {
  #socket
  #reader = new Reader()
  #handle = 0n
  size = 0n
  flags = 0

  // Options until the export is open: STARTTLS first when a certificate is given.
  static async open({ address, port, exportname, cert, subject }) {
    const c = new NbdClient()
    c.#socket = net.connect({ host: address, port })
    c.#reader.attach(c.#socket)
    await new Promise((resolve, reject) => c.#socket.once('connect', resolve).once('error', reject))
    const hello = await c.#reader.read(18)
    check(hello.subarray(0, 16).toString() === 'NBDMAGICIHAVEOPT', 'not a newstyle NBD server')
    check((hello.readUInt16BE(16) & 1) === 1, 'the server is not fixed newstyle')
    c.#socket.write(u32(1 | (hello.readUInt16BE(16) & 2))) // fixed newstyle, no zeroes if offered
    if (cert) {
      const rep = await c.#option(OPT_STARTTLS, Buffer.alloc(0))
      check(rep.type === REP_ACK, `STARTTLS answered ${rep.type.toString(16)}`)
      const plain = c.#socket
      plain.removeAllListeners('data')
      c.#socket = tls.connect({ socket: plain, ca: [cert], servername: subject })
      await new Promise((resolve, reject) => c.#socket.once('secureConnect', resolve).once('error', reject))
      c.#reader.attach(c.#socket)
    }
    const name = Buffer.from(exportname)
    const go = Buffer.concat([u32(name.length), name, Buffer.from([0, 0])])
    for (;;) {
      const rep = await c.#option(OPT_GO, go)
      if (rep.type === REP_ACK) return c
      if (rep.type === REP_INFO && rep.data.readUInt16BE(0) === 0) {
        c.size = rep.data.readBigUInt64BE(2)
        c.flags = rep.data.readUInt16BE(10)
      } else if (rep.type !== REP_INFO) {
        c.#socket.destroy()
        const error = new Error(`NBD_OPT_GO refused: 0x${rep.type.toString(16)} ${rep.data.subarray(0).toString()}`)
        error.reply = rep.type
        throw error
      }
      // Further NBD_REP_INFO replies for the same GO, then its ACK.
      for (;;) {
        const more = await c.#reply()
        if (more.type === REP_ACK) return c
        if (more.type === REP_INFO && more.data.readUInt16BE(0) === 0) {
          c.size = more.data.readBigUInt64BE(2)
          c.flags = more.data.readUInt16BE(10)
        }
      }
    }
  }

  async #option(option, data) {
    this.#socket.write(Buffer.concat([IHAVEOPT, u32(option), u32(data.length), data]))
    return this.#reply()
  }

  async #reply() {
    const h = await this.#reader.read(20)
    check(h.readBigUInt64BE(0) === 0x3e889045565a9n, 'bad option reply magic')
    const data = await this.#reader.read(h.readUInt32BE(16))
    return { option: h.readUInt32BE(8), type: h.readUInt32BE(12), data }
  }

  async #command(type, offset, length, payload) {
    const handle = ++this.#handle
    const req = Buffer.alloc(28)
    req.writeUInt32BE(0x25609513, 0)
    req.writeUInt16BE(type, 6)
    req.writeBigUInt64BE(handle, 8)
    req.writeBigUInt64BE(BigInt(offset), 16)
    req.writeUInt32BE(length, 24)
    this.#socket.write(payload ? Buffer.concat([req, payload]) : req)
    if (type === CMD.DISC) return
    const r = await this.#reader.read(16)
    check(r.readUInt32BE(0) === 0x67446698, 'bad simple reply magic')
    check(r.readBigUInt64BE(8) === handle, 'reply for another request')
    const error = r.readUInt32BE(4)
    if (error !== 0) throw new Error(`NBD command ${type} at ${offset}: error ${error}`)
    return type === CMD.READ ? Buffer.from(await this.#reader.read(length)) : undefined
  }

  read(offset, length) {
    return this.#command(CMD.READ, offset, length)
  }
  write(offset, data) {
    return this.#command(CMD.WRITE, offset, data.length, data)
  }
  flush() {
    return this.#command(CMD.FLUSH, 0, 0)
  }
  async close() {
    await this.#command(CMD.DISC, 0, 0)
    this.#socket.end()
  }
}

function u32(n) {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b
}

// ---- the backup flow ----

function changedBlocks(base64) {
  const b = Buffer.from(base64, 'base64')
  const out = []
  for (let i = 0; i < b.length * 8; i++) if (b[i >> 3] & (0x80 >> (i & 7))) out.push(i)
  return out
}

async function toBuffer(stream) {
  const chunks = []
  for await (const c of stream) chunks.push(c)
  return Buffer.concat(chunks)
}

const withLength = buf => Object.assign(Readable.from([buf]), { length: buf.length })

async function main() {
  const xapi = createClient({ url, auth: { user, password }, allowUnauthorized: true })
  const step = (name, fn) => fn().then(v => (console.log(`ok   ${name}`), v))
  const made = []
  try {
    await xapi.connect()
    const pool = Object.values(await xapi.call('pool.get_all_records'))[0]
    const get = async (vdi, query) => {
      const response = await xapi.getResource('/export_raw_vdi/', { query: { vdi, ...query }, task: true })
      const body = await toBuffer(response.body)
      await response.task
      return body
    }
    const put = (vdi, format, body) =>
      xapi.putResource(body, '/import_raw_vdi/', { query: { vdi, format }, task: true })
    const nbdInfo = async vdi => {
      const infos = await xapi.call('VDI.get_nbd_info', vdi)
      check(infos.length === 1, `${infos.length} NBD servers for one VDI`)
      return infos[0]
    }
    // A VM's writes to the live disk, through NBD as the VM's device would make them.
    const writeThroughNbd = async (vdi, writes) => {
      const nbd = await NbdClient.open(await nbdInfo(vdi))
      for (const [offset, data] of writes) await nbd.write(offset, data)
      await nbd.flush()
      await nbd.close()
    }

    const vdi = await xapi.call('VDI.create', {
      name_label: 'xo-backup', name_description: '', SR: pool.default_SR, virtual_size: String(SIZE),
      type: 'user', sharable: false, read_only: false, other_config: {}, xenstore_data: {},
      sm_config: {}, tags: [],
    })
    made.push(vdi)
    const first = randomBytes(SIZE)
    await put(vdi, 'raw', withLength(first))
    await xapi.call('VDI.enable_cbt', vdi)
    check((await xapi.call('VDI.get_cbt_enabled', vdi)) === true, 'CBT is not enabled')
    const snapA = await xapi.call('VDI.snapshot', vdi, {})
    made.push(snapA)

    // Writes: a whole block, a 4 KiB write inside one, three blocks, a write across a block
    // boundary, and the last block.
    const writes = [
      [3 * K64, randomBytes(K64)],
      [17 * K64 + 8192, randomBytes(4096)],
      [40 * K64, randomBytes(3 * K64)],
      [60 * K64 - 512, randomBytes(1024)],
      [SIZE - K64, randomBytes(K64)],
    ]
    const expectedBlocks = [3, 17, 40, 41, 42, 59, 60, SIZE / K64 - 1]
    const second = Buffer.from(first)
    for (const [offset, data] of writes) data.copy(second, offset)
    await step('writes through NBD (TLS) to the live disk', () => writeThroughNbd(vdi, writes))
    const snapB = await xapi.call('VDI.snapshot', vdi, {})
    made.push(snapB)

    const blocks = await step('VDI.list_changed_blocks gives exactly the 64 KiB blocks written', async () => {
      const got = changedBlocks(await xapi.call('VDI.list_changed_blocks', snapA, snapB))
      check(JSON.stringify(got) === JSON.stringify(expectedBlocks), `changed blocks ${got}`)
      return got
    })

    const info = await nbdInfo(snapB)
    await step('get_nbd_info of the snapshot asks for TLS, and a plain client is refused', async () => {
      check(info.cert.startsWith('-----BEGIN CERTIFICATE-----'), 'no certificate: XO would connect without TLS')
      check(info.subject !== '', 'no subject to check the certificate against')
      let refused
      try {
        await (await NbdClient.open({ ...info, cert: '' })).close()
      } catch (error) {
        refused = error.reply
      }
      check(refused === REP_ERR_TLS_REQD, `a plain NBD_OPT_GO was answered ${refused}`)
    })
    await step('NBD reads of the changed blocks of the snapshot (TLS) hold the new data', async () => {
      const nbd = await NbdClient.open(info)
      try {
        check(nbd.size === BigInt(SIZE), `export size ${nbd.size}`)
        check((nbd.flags & 2) !== 0, 'a snapshot is exported writable')
        for (const b of blocks) {
          const data = await nbd.read(b * K64, K64)
          check(data.equals(second.subarray(b * K64, (b + 1) * K64)), `block ${b} differs`)
        }
      } finally {
        await nbd.close()
      }
    })
    await step('the certificate is checked against the subject: another name is refused', async () => {
      let untrusted
      try {
        await (await NbdClient.open({ ...info, subject: 'not-' + info.subject })).close()
      } catch (e) {
        untrusted = e
      }
      check(untrusted !== undefined && /altnames|Hostname|certificate/i.test(untrusted.message),
        `a wrong subject was accepted (${untrusted?.message})`)
    })

    const delta = await step('export of the snapshot with base= is a differencing VHD', async () => {
      const d = await get(snapB, { format: 'vhd', base: snapA })
      const footer = d.subarray(d.length - 512)
      check(footer.subarray(0, 8).toString() === 'conectix', 'no VHD footer')
      check(footer.readUInt32BE(60) === 4, `disk type ${footer.readUInt32BE(60)}`)
      return d
    })

    // Replication as XO's continuous replication makes it: the first run imports a full export
    // into a new VDI on the target; each delta is PUT onto a clone of the target's previous copy.
    let replica = await step('replication: a full export of the base imports into a new VDI', async () => {
      const r = await xapi.call('VDI.create', {
        name_label: 'xo-replica', name_description: '', SR: pool.default_SR, virtual_size: String(SIZE),
        type: 'user', sharable: false, read_only: false, other_config: {}, xenstore_data: {},
        sm_config: {}, tags: [],
      })
      made.push(r)
      await put(r, 'vhd', withLength(await get(snapA, { format: 'vhd' })))
      check((await get(r, { format: 'raw' })).equals(first), 'the replica of the base differs from the base')
      return r
    })
    const replicate = async (delta, want) => {
      const clone = await xapi.call('VDI.clone', replica, {})
      made.push(clone)
      await put(clone, 'vhd', withLength(delta))
      check((await get(clone, { format: 'raw' })).equals(want), 'the replica differs from the source')
      replica = clone
    }
    await step('replication: the delta VHD PUT onto a clone of the base replica equals the source', async () => {
      await replicate(delta, second)
      check((await get(snapB, { format: 'raw' })).equals(second), 'the snapshot differs from what was written')
    })

    await step('VDI.data_destroy of the older snapshot keeps its changed-block tracking', async () => {
      await xapi.call('VDI.data_destroy', snapA)
      check((await xapi.call('VDI.get_type', snapA)) === 'cbt_metadata', 'type is not cbt_metadata')
      const got = changedBlocks(await xapi.call('VDI.list_changed_blocks', snapA, snapB))
      check(JSON.stringify(got) === JSON.stringify(expectedBlocks), `changed blocks after data_destroy ${got}`)
      let exported
      try {
        await get(snapA, { format: 'raw' })
        exported = true
      } catch {
        exported = false
      }
      check(!exported, 'a data-destroyed snapshot still exports')
    })

    await step('the next cycle: NBD+CBT blocks from B to C, and the delta onto the replica', async () => {
      const third = Buffer.from(second)
      const w = [[7 * K64, randomBytes(2 * K64)]]
      for (const [offset, data] of w) data.copy(third, offset)
      await writeThroughNbd(vdi, w)
      const snapC = await xapi.call('VDI.snapshot', vdi, {})
      made.push(snapC)
      const got = changedBlocks(await xapi.call('VDI.list_changed_blocks', snapB, snapC))
      check(JSON.stringify(got) === '[7,8]', `changed blocks B -> C ${got}`)
      const nbd = await NbdClient.open(await nbdInfo(snapC))
      try {
        for (const b of got) {
          check((await nbd.read(b * K64, K64)).equals(third.subarray(b * K64, (b + 1) * K64)), `block ${b}`)
        }
      } finally {
        await nbd.close()
      }
      await replicate(await get(snapC, { format: 'vhd', base: snapB }), third)
      await xapi.call('VDI.data_destroy', snapB)
    })
    for (const ref of made.reverse()) await xapi.call('VDI.destroy', ref).catch(() => {})
  } finally {
    await xapi.disconnect().catch(() => {})
  }
}

const globalTimer = setTimeout(() => {
  console.log('FAIL: the whole run took more than 120 s')
  process.exit(1)
}, 120000)

main().then(
  () => {
    clearTimeout(globalTimer)
    console.log('xo_backup_test: all checks passed')
    process.exit(0)
  },
  error => {
    clearTimeout(globalTimer)
    console.log(error instanceof CheckFailed ? `FAIL: ${error.message}` : `FAIL: ${error?.stack ?? error}`)
    process.exit(1)
  }
)
