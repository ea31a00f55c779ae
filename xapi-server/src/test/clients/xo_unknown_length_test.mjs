// Uploads of unknown length as Xen Orchestra's connector sends them (npm xen-api 4.7.7,
// putResource with a stream that has no length): the empty-body probe, then a PUT with
// Content-Length 1 PiB, and the socket destroyed as soon as the last byte is handed to the kernel,
// without reading the answer. xapi reads such a body until the connection ends; so must xsm, and
// the import must succeed with every byte. A raw image and a VHD (qemu-img made), each uploaded
// ROUNDS times (the raw image onto a VDI whose bytes change every round), read back and compared.
//
// usage: node xo_unknown_length_test.mjs URL USER PASSWORD [ROUNDS]
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { check, loadXenApi, run, toBuffer, vdiMaker } from './xo_common.mjs'

const [url, user, password, roundsArg] = process.argv.slice(2)
if (password === undefined) {
  console.log('usage: node xo_unknown_length_test.mjs URL USER PASSWORD [ROUNDS]')
  process.exit(2)
}
const ROUNDS = Number(roundsArg ?? 20)
const createClient = await loadXenApi()

const MIB = 1024 * 1024
// Larger than what the server queues plus both sockets' buffers, so the last bytes are still in
// the client's send buffer when it destroys the socket.
const SIZE = 32 * MIB

// As XO's streams of unknown length: no `length`, chunks of 1 MiB or less, so the connector
// writes many times and destroys the socket right after its last write has been flushed.
const unknownLength = buf => {
  const chunks = []
  for (let o = 0; o < buf.length; o += MIB) chunks.push(buf.subarray(o, Math.min(buf.length, o + MIB)))
  return Readable.from(chunks)
}

function image(round) {
  const b = Buffer.alloc(SIZE)
  randomBytes(4 * MIB).copy(b, (round % 7) * MIB)
  // The tail always carries data: a lost tail reads back as zeros.
  randomBytes(MIB - 512).copy(b, SIZE - MIB + 512)
  b.writeUInt32BE(round + 1, SIZE - 4)
  return b
}

async function main() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'xo-unknown-length-'))
  const xapi = createClient({ url, auth: { user, password }, allowUnauthorized: true })
  const vdis = []
  const warn = console.warn
  console.warn = () => {} // the connector warns "missing length" on every such upload
  try {
    await xapi.connect()
    const pool = Object.values(await xapi.call('pool.get_all_records'))[0]
    const newVdi = vdiMaker(xapi, pool, SIZE, vdis)
    // The connector's own path with a task of ours (it would destroy one it made), whose outcome
    // is checked here: in this mode the connector ignores a VDI_IO_ERROR.
    const put = async (vdi, format, body, what) => {
      const task = await xapi.call('task.create', 'xo-unknown-length', '')
      try {
        await xapi.putResource(body, '/import_raw_vdi/', { query: { vdi, format }, task })
        const t = await xapi.call('task.get_record', task)
        check(t.status === 'success', `${what}: task ${t.status} ${JSON.stringify(t.error_info)}`)
      } finally {
        await xapi.call('task.destroy', task).catch(() => {})
      }
    }
    const get = async vdi => {
      const response = await xapi.getResource('/export_raw_vdi/', { query: { vdi, format: 'raw' }, task: true })
      const body = await toBuffer(response.body)
      await response.task
      return body
    }
    const raw = await newVdi('xo-unknown-length-raw')
    for (let round = 0; round < ROUNDS; round++) {
      const img = image(round)
      await put(raw, 'raw', unknownLength(img), `raw round ${round}`)
      check(Buffer.compare(await get(raw), img) === 0, `raw round ${round}: the VDI differs from the upload`)

      const other = image(round + 100)
      const rawPath = path.join(dir, 'in.raw')
      const vhdPath = path.join(dir, 'in.vhd')
      await fs.writeFile(rawPath, other)
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', rawPath, vhdPath])
      // A dynamic VHD's holes leave the VDI's bytes as they were: a new VDI each round.
      const vhd = await newVdi(`xo-unknown-length-vhd-${round}`)
      await put(vhd, 'vhd', unknownLength(await fs.readFile(vhdPath)), `vhd round ${round}`)
      check(Buffer.compare(await get(vhd), other) === 0, `vhd round ${round}: the VDI differs from the upload`)
    }
    console.log(`ok   ${ROUNDS} raw and ${ROUNDS} VHD uploads of unknown length, every byte, every task succeeded`)
    for (const ref of vdis) await xapi.call('VDI.destroy', ref).catch(() => {})
  } finally {
    console.warn = warn
    await xapi.disconnect().catch(() => {})
    await fs.rm(dir, { recursive: true, force: true })
  }
}

run('xo_unknown_length_test', main, 150)
