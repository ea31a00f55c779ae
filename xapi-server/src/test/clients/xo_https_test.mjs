// Xen Orchestra's connector (npm `xen-api`) against xsm over HTTPS, with certificate checks ON
// (allowUnauthorized: false): the host certificate is trusted from its file through node's
// NODE_EXTRA_CA_CERTS, the way an operator adds a self-signed host to XO's machine.
//
// usage: node xo_https_test.mjs URL USER PASSWORD trusted|untrusted
//
// trusted: connect, the objects collection, a call, an async call (a task) and an HTTP download
// (getResource of /export_raw_vdi) all over TLS. untrusted (run without NODE_EXTRA_CA_CERTS): the
// connection must fail on the certificate, not succeed and not fail for another reason.

import { randomUUID } from 'node:crypto'

const [url, user, password, mode] = process.argv.slice(2)
if (!['trusted', 'untrusted'].includes(mode)) {
  console.log('usage: node xo_https_test.mjs URL USER PASSWORD trusted|untrusted')
  process.exit(2)
}
const { createClient } = await import('xen-api')
const MIB = 1024 * 1024

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`)
}

function withTimeout(promise, ms, what) {
  let timer
  return Promise.race([
    promise,
    new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

const xapi = createClient({ url, auth: { user, password }, allowUnauthorized: false })
const created = []
try {
  if (mode === 'untrusted') {
    let error
    try {
      await withTimeout(xapi.connect(), 30000, 'connect()')
    } catch (e) {
      error = e
    }
    check(error !== undefined, 'connect() succeeded although the certificate is not trusted')
    const why = `${error.code ?? ''} ${error.message} ${error.cause?.code ?? ''} ${error.cause?.message ?? ''}`
    check(/SELF_SIGNED|self[- ]signed|UNABLE_TO_VERIFY|unable to verify|certificate/i.test(why),
      `connect() failed, but not on the certificate: ${why}`)
    console.log(`ok   an untrusted certificate is refused: ${why.trim()}`)
  } else {
    await withTimeout(xapi.connect(), 30000, 'connect()')
    check(xapi.status === 'connected', `status ${xapi.status}`)
    console.log('ok   connect() over HTTPS with the certificate trusted from its file')

    const pools = await xapi.call('pool.get_all_records')
    const pool = Object.values(pools)[0]
    check(pool?.default_SR?.startsWith('OpaqueRef:'), `pool.default_SR ${pool?.default_SR}`)
    console.log('ok   call() pool.get_all_records')

    const vdi = await xapi.call('VDI.create', {
      SR: pool.default_SR, name_label: `xo-https-${randomUUID().slice(0, 8)}`, name_description: 'xo_https_test.mjs',
      virtual_size: 2 * MIB, type: 'user', sharable: false, read_only: false, other_config: {},
      xenstore_data: {}, sm_config: {}, tags: [],
    })
    created.push(vdi)
    const copy = await withTimeout(xapi.callAsync('VDI.copy', vdi, pool.default_SR), 60000, 'VDI.copy')
    created.push(copy)
    check(copy.startsWith('OpaqueRef:'), `VDI.copy task result ${copy}`)
    console.log('ok   callAsync() VDI.copy: its task ended with the copy')

    const response = await xapi.getResource('/export_raw_vdi/', { query: { vdi, format: 'raw' } })
    const body = Buffer.from(await response.body.arrayBuffer())
    check(body.length === 2 * MIB, `export_raw_vdi gave ${body.length} bytes, not ${2 * MIB}`)
    check(body.every(b => b === 0), 'a new VDI reads as zeros')
    console.log('ok   getResource() /export_raw_vdi over HTTPS: 2 MiB of zeros')
  }
  console.log('xo_https_test: all checks passed')
} catch (e) {
  console.log(`FAIL: ${e.message}`)
  process.exitCode = 1
} finally {
  for (const ref of created.reverse()) {
    await xapi.call('VDI.destroy', ref).catch(e => console.log(`cleanup of ${ref}: ${e.message}`))
  }
  if (xapi.status === 'connected') await xapi.disconnect()
}
