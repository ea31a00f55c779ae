// Incremental backup and restore as Xen Orchestra does them, through its connector (npm xen-api
// 4.7.7: putResource with its empty-body probe, streams of unknown length sent with a 1 PiB
// Content-Length) and its VHD library (npm vhd-lib 0.7.2, the version the registry serves whole):
// a delta exported with base= is a differencing VHD naming the base, which vhd-lib follows to
// rebuild the disk; VHDs that vhd-lib makes (creator "xo  ", geometry rounded up, and chained into a
// differencing disk with chainVhd) import. qemu-img is the byte-level oracle.
//
// usage: node xo_delta_test.mjs URL USER PASSWORD
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'

const [url, user, password] = process.argv.slice(2)
if (password === undefined) {
  console.log('usage: node xo_delta_test.mjs URL USER PASSWORD')
  process.exit(2)
}

let createClient, vhdLib
try {
  ;({ createClient } = await import('xen-api'))
  vhdLib = (await import('vhd-lib')).default
} catch (error) {
  console.log(`FAIL: cannot load the npm packages xen-api and vhd-lib (${error.message}); run 'npm ci'`)
  process.exit(2)
}
const { default: Vhd, createSyntheticStream, createReadableSparseStream, chainVhd } = vhdLib

class CheckFailed extends Error {}
function check(cond, what) {
  if (!cond) throw new CheckFailed(what)
}

const MIB = 1024 * 1024
const SIZE = 8 * MIB

// vhd-lib 0.7's file handler, over plain files (what @xen-orchestra/fs gives it).
const handler = {
  async openFile(p) {
    return p
  },
  async closeFile() {},
  async getSize(p) {
    return (await fs.stat(p)).size
  },
  async read(p, buffer, position) {
    const fh = await fs.open(p, 'r')
    try {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, position)
      return { bytesRead, buffer }
    } finally {
      await fh.close()
    }
  },
  async write(p, data, position) {
    const fh = await fs.open(p, 'r+')
    try {
      await fh.write(data, 0, data.length, position)
    } finally {
      await fh.close()
    }
  },
}

async function toBuffer(stream) {
  const chunks = []
  for await (const c of stream) chunks.push(c)
  return Buffer.concat(chunks)
}

// A stream with no length: the connector then sends Content-Length 1 PiB and destroys the socket
// after the last byte. Seen here: that close can be a reset that drops what the server had not yet
// read (the task then says "truncated upload"), so it is used for the first, small upload only.
const unknownLength = buf => Readable.from([buf.subarray(0, buf.length / 2), buf.subarray(buf.length / 2)])
// As vhd-lib's createVhdStreamWithLength: a stream whose length the connector sends.
const withLength = buf => Object.assign(Readable.from([buf]), { length: buf.length })

function image(seed) {
  const b = Buffer.alloc(SIZE)
  randomBytes(2 * MIB).copy(b, MIB + seed * 4096)
  randomBytes(4096).copy(b, 6 * MIB + seed * 512)
  return b
}

async function main() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'xo-delta-'))
  const xapi = createClient({ url, auth: { user, password }, allowUnauthorized: true })
  const step = (name, fn) => fn().then(v => (console.log(`ok   ${name}`), v))
  const vdis = []
  try {
    await xapi.connect()
    const pool = Object.values(await xapi.call('pool.get_all_records'))[0]
    const newVdi = async name => {
      const ref = await xapi.call('VDI.create', {
        name_label: name, name_description: '', SR: pool.default_SR, virtual_size: String(SIZE),
        type: 'user', sharable: false, read_only: false, other_config: {}, xenstore_data: {},
        sm_config: {}, tags: [],
      })
      vdis.push(ref)
      return ref
    }
    const put = (vdi, format, body) =>
      xapi.putResource(body, '/import_raw_vdi/', { query: { vdi, format }, task: true })
    const get = async (vdi, query) => {
      const response = await xapi.getResource('/export_raw_vdi/', { query: { vdi, ...query }, task: true })
      const body = await toBuffer(response.body)
      await response.task
      return body
    }

    const vdi = await newVdi('xo-delta')
    const first = image(1)
    await step('raw upload through the empty-body probe', () =>
      put(vdi, 'raw', withLength(first)))
    await xapi.call('VDI.enable_cbt', vdi)
    const snap1 = await xapi.call('VDI.snapshot', vdi, {})
    const second = Buffer.from(first)
    randomBytes(4096).copy(second, 3 * MIB)
    randomBytes(512).copy(second, 7 * MIB + 1024)
    await put(vdi, 'raw', withLength(second))
    const snap2 = await xapi.call('VDI.snapshot', vdi, {})
    const uuid1 = await xapi.call('VDI.get_uuid', snap1)
    const uuid2 = await xapi.call('VDI.get_uuid', snap2)

    const full = await get(snap1, { format: 'vhd' })
    const delta = await get(snap2, { format: 'vhd', base: snap1 })
    const fullPath = path.join(dir, `${uuid1}.vhd`)
    const deltaPath = path.join(dir, `${uuid2}.vhd`)
    await fs.writeFile(fullPath, full)
    await fs.writeFile(deltaPath, delta)
    await step('vhd-lib reads the delta as differencing over the base', async () => {
      const d = new Vhd(handler, deltaPath)
      await d.readHeaderAndFooter()
      check(d.footer.diskType === 4, `disk type ${d.footer.diskType}`)
      const base = new Vhd(handler, fullPath)
      await base.readHeaderAndFooter()
      check(base.footer.diskType === 3, `full export's disk type ${base.footer.diskType}`)
      check(Buffer.compare(d.header.parentUuid, base.footer.uuid) === 0, 'parent UUID is not the base footer UUID')
      check(d.header.parentUuid.toString('hex') === uuid1.replaceAll('-', ''), 'parent UUID is not the base VDI UUID')
      check(d.header.parentUnicodeName === `${uuid1}.vhd`, `parent name ${d.header.parentUnicodeName}`)
    })
    await step('vhd-lib follows the chain and rebuilds the disk (qemu-img compare)', async () => {
      const merged = path.join(dir, 'merged.vhd')
      // vhd-lib 0.7 resolves the parent's name relative to the child's path without its leading
      // "/": it is given a relative path.
      const cwd = process.cwd()
      process.chdir(dir)
      try {
        await fs.writeFile(merged, await toBuffer(await createSyntheticStream(handler, `${uuid2}.vhd`)))
      } finally {
        process.chdir(cwd)
      }
      const raw = path.join(dir, 'second.raw')
      await fs.writeFile(raw, second)
      execFileSync('qemu-img', ['compare', '-f', 'vpc', '-F', 'raw', merged, raw])
    })
    await step('full + delta restore a new VDI byte for byte', async () => {
      const restored = await newVdi('xo-restored')
      await put(restored, 'vhd', withLength(full))
      await put(restored, 'vhd', withLength(delta))
      check(Buffer.compare(await get(restored, { format: 'raw' }), second) === 0, 'restored bytes differ')
    })

    // VHDs made by vhd-lib: a dynamic one from fragments, and one chained as a differencing disk.
    const fragments = [MIB, 5 * MIB]
    const data = fragments.map(() => randomBytes(64 * 1024))
    const sparse = () =>
      createReadableSparseStream(SIZE, 64 * 1024, fragments, fragments.map((a, i) => ({ logicalAddressBytes: a, data: data[i] })))
    const expected = Buffer.alloc(SIZE)
    fragments.forEach((a, i) => data[i].copy(expected, a))
    await step('a dynamic VHD made by vhd-lib (creator "xo  ", geometry rounded up) imports', async () => {
      const s = await sparse()
      check(s.length !== undefined, 'vhd-lib gives its stream a length')
      const v = await newVdi('xo-made')
      await put(v, 'vhd', s)
      check(Buffer.compare(await get(v, { format: 'raw' }), expected) === 0, 'imported bytes differ')
    })
    await step('a differencing VHD made by vhd-lib (chainVhd) applies over a copy of its base', async () => {
      const parentPath = path.join(dir, 'parent.vhd')
      const childPath = path.join(dir, 'child.vhd')
      await fs.writeFile(parentPath, full)
      await fs.writeFile(childPath, await toBuffer(await sparse()))
      await chainVhd(handler, parentPath, handler, childPath, true)
      const target = await xapi.call('VDI.clone', snap1, {})
      vdis.push(target)
      await put(target, 'vhd', withLength(await fs.readFile(childPath)))
      const want = Buffer.from(first)
      fragments.forEach((a, i) => data[i].copy(want, a))
      check(Buffer.compare(await get(target, { format: 'raw' }), want) === 0, 'applied bytes differ')
    })
    for (const ref of [snap2, snap1, ...vdis.reverse()]) await xapi.call('VDI.destroy', ref).catch(() => {})
  } finally {
    await xapi.disconnect().catch(() => {})
    await fs.rm(dir, { recursive: true, force: true })
  }
}

const globalTimer = setTimeout(() => {
  console.log('FAIL: the whole run took more than 120 s')
  process.exit(1)
}, 120000)

main().then(
  () => {
    clearTimeout(globalTimer)
    console.log('xo_delta_test: all checks passed')
    process.exit(0)
  },
  error => {
    clearTimeout(globalTimer)
    console.log(error instanceof CheckFailed ? `FAIL: ${error.message}` : `FAIL: ${error?.stack ?? error}`)
    process.exit(1)
  }
)
