// Drives an xsm server with Xen Orchestra's connector, the npm package `xen-api` (exact version in
// package.json next to this file; install with `npm ci` in this directory).
//
// usage: node xo_xen_api_test.mjs URL USER PASSWORD
//
// Connects as Xen Orchestra does (createClient({ url, auth, allowUnauthorized }) then connect()), lets
// the client fill its objects collection from *.get_all_records and keep it current with its event.from
// loop, and calls VDI.create/snapshot/destroy through call() and callAsync(). It runs once per
// transport: 'auto' (what Xen Orchestra uses: JSON-RPC, falling back to XML-RPC), then 'json-rpc' and
// 'xml-rpc' forced. Any warning the library logs (it logs, rather than throws, failures of its
// background fetches) fails the run, except the one noted in ALLOWED_WARNINGS. Exits 1 on the first
// failed check, naming it.

import { createRequire } from 'node:module'
import { randomUUID } from 'node:crypto'

const [url, user, password] = process.argv.slice(2)
if (password === undefined) {
  console.log('usage: node xo_xen_api_test.mjs URL USER PASSWORD')
  process.exit(2)
}

let createClient, xenApiVersion
try {
  ;({ createClient } = await import('xen-api'))
  xenApiVersion = createRequire(import.meta.url)('xen-api/package.json').version
} catch (error) {
  console.log(`FAIL: cannot load the npm package xen-api (${error.message}); run 'npm ci' in ${new URL('.', import.meta.url).pathname}`)
  process.exit(2)
}

const REF_RE = /^OpaqueRef:[0-9a-f-]{36}$/
const MIB = 1024 * 1024

// xen-api lists the types to fetch from system.listMethods (every X.get_all_records): the server
// lists only xapi's (no session.get_all_records, which xen-api would refuse to call and warn about),
// so no warning at all is expected.
const ALLOWED_WARNINGS = []

// The fields Xen Orchestra's xo-server reads from each record (packages/xo-server/src/
// xapi-object-to-xo.mjs, read 2026-12 at vatesfr/xen-orchestra 9ef53890b8: its obj.<field> reads,
// link(obj, '<field>') calls and destructured fields), limited to those the XenServer SDK 8.1.0
// declares. It reads them without checks: a missing one breaks or blanks the object in XO. Not
// listed, because XO reads them optionally (obj.x ?? default) or they are newer than the SDK:
// pool.ha_reboot_vm_on_internal_shutdown, pool.migration_compression, host.certificates,
// SM.supported_image_formats.
const FIELDS_READ_BY_XO = {
  pool: ['cpu_info', 'crash_dump_SR', 'current_operations', 'default_SR', 'ha_enabled', 'ha_statefiles', 'master',
    'name_description', 'name_label', 'other_config', 'restrictions', 'suspend_image_SR', 'tags'],
  host: ['PBDs', 'PCIs', 'PGPUs', 'PIFs', 'address', 'bios_strings', 'capabilities', 'chipset_info', 'control_domain',
    'cpu_info', 'current_operations', 'enabled', 'hostname', 'iscsi_iqn', 'license_params', 'license_server', 'logging',
    'metrics', 'name_description', 'name_label', 'other_config', 'patches', 'power_on_mode', 'resident_VMs',
    'software_version', 'tags', 'updates', 'updates_requiring_reboot'],
  VM: ['HVM_boot_params', 'HVM_boot_policy', 'PV_args', 'VBDs', 'VCPUs_at_startup', 'VCPUs_max', 'VCPUs_params', 'VGPUs',
    'VIFs', 'VTPMs', 'affinity', 'bios_strings', 'blocked_operations', 'current_operations', 'domain_type',
    'guest_metrics', 'ha_restart_priority', 'has_vendor_device', 'is_a_snapshot', 'is_a_template', 'is_control_domain',
    'memory_dynamic_max', 'memory_dynamic_min', 'memory_static_max', 'memory_static_min', 'metrics', 'name_description',
    'name_label', 'other_config', 'parent', 'platform', 'power_state', 'recommendations', 'resident_on', 'snapshot_of',
    'snapshot_time', 'snapshots', 'start_delay', 'suspend_SR', 'suspend_VDI', 'tags', 'uuid', 'xenstore_data'],
  SR: ['PBDs', 'VDIs', 'content_type', 'current_operations', 'name_description', 'name_label', 'other_config',
    'physical_size', 'physical_utilisation', 'shared', 'sm_config', 'tags', 'type', 'virtual_allocation'],
  SM: ['configuration', 'driver_filename', 'features', 'name_description', 'name_label', 'required_cluster_stack', 'type',
    'uuid', 'vendor'],
  PBD: ['SR', 'currently_attached', 'device_config', 'host', 'other_config'],
  PIF: ['DNS', 'IP', 'IPv6', 'MAC', 'MTU', 'VLAN', 'bond_master_of', 'bond_slave_of', 'currently_attached', 'device',
    'disallow_unplug', 'gateway', 'host', 'ip_configuration_mode', 'ipv6_configuration_mode', 'management', 'metrics',
    'netmask', 'network', 'physical', 'primary_address_type'],
  VDI: ['SR', 'VBDs', 'cbt_enabled', 'current_operations', 'is_a_snapshot', 'managed', 'missing', 'name_description',
    'name_label', 'other_config', 'physical_utilisation', 'sm_config', 'snapshot_of', 'snapshot_time', 'snapshots', 'tags',
    'type', 'virtual_size'],
  VBD: ['VDI', 'VM', 'bootable', 'currently_attached', 'device', 'mode', 'type', 'userdevice'],
  VIF: ['MAC', 'MTU', 'VM', 'currently_attached', 'device', 'ipv4_allowed', 'ipv6_allowed', 'locking_mode', 'network',
    'other_config', 'qos_algorithm_params', 'qos_algorithm_type'],
  network: ['MTU', 'PIFs', 'VIFs', 'bridge', 'current_operations', 'default_locking_mode', 'name_description',
    'name_label', 'other_config', 'purpose', 'tags'],
  message: ['body', 'name', 'obj_uuid', 'timestamp'],
  task: ['allowed_operations', 'created', 'current_operations', 'finished', 'name_description', 'name_label',
    'other_config', 'progress', 'resident_on', 'result', 'status'],
  // Read through host.$metrics, VM.$metrics and VM.$guest_metrics.
  host_metrics: ['live', 'memory_free', 'memory_total'],
  VM_metrics: ['VCPUs_number', 'install_time', 'memory_actual', 'start_time'],
  VM_guest_metrics: ['PV_drivers_detected', 'PV_drivers_up_to_date', 'PV_drivers_version', 'memory', 'networks',
    'os_version', 'other'],
}

class CheckFailed extends Error {}

function check(cond, what) {
  if (!cond) throw new CheckFailed(what)
}

function withTimeout(promise, ms, what) {
  let timer
  return Promise.race([
    promise,
    new Promise((_resolve, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`${what}: no answer after ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

async function waitFor(what, fn, ms = 15000) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v) return v
    if (Date.now() > deadline) throw new CheckFailed(`${what}: not seen within ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

async function expectXapiError(promise, code, params, what) {
  let result
  try {
    result = await promise
  } catch (error) {
    check(
      error.code === code && JSON.stringify(error.params) === JSON.stringify(params),
      `${what}: expected ${code}(${params}), got ${error.code}(${error.params}) ${error.message}`
    )
    return error
  }
  throw new CheckFailed(`${what}: expected ${code}, the call returned ${JSON.stringify(result)}`)
}

// A plain JSON-RPC call beside the client, to act as another program would.
async function rawCall(method, params) {
  const res = await fetch(new URL('/jsonrpc', url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
  })
  return res.json()
}

// Library warnings go through console.warn; keep them to judge them.
const warnings = []
// While our own disconnect() logs the session out, a background refresh the library already had in
// flight (over XML-RPC it re-reads tasks on every event loop) can meet SESSION_INVALID: that one is
// the client's race with itself, not the server's doing.
let disconnecting = false
const originalWarn = console.warn
console.warn = (...args) => {
  const text = args.map(a => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' ')
  if (disconnecting && /SESSION_INVALID/.test(text)) {
    originalWarn(`  [xen-api warn during our own disconnect] ${text}`)
    return
  }
  warnings.push(text)
  if (ALLOWED_WARNINGS.some(re => re.test(text))) {
    originalWarn(`  [xen-api warn, expected] ${text}`)
  } else {
    originalWarn('  [xen-api warn]', ...args)
  }
}

function vdiRecord(sr, nameLabel, size) {
  return {
    SR: sr,
    name_label: nameLabel,
    name_description: 'created by xo_xen_api_test.mjs',
    virtual_size: size,
    type: 'user',
    sharable: false,
    read_only: false,
    other_config: { 'xsm-test': 'xen-api' },
    xenstore_data: {},
    sm_config: {},
    tags: [],
  }
}

async function scenario(transport) {
  disconnecting = false
  const step = (name, fn) =>
    fn().then(v => {
      console.log(`ok   [${transport}] ${name}`)
      return v
    })
  const opts = { url, auth: { user, password }, allowUnauthorized: true }
  if (transport !== 'auto') opts.transport = transport
  const xapi = createClient(opts)
  const eventErrors = []
  xapi.on('eventFetchingError', error => eventErrors.push(error))
  const created = []

  try {
    await step('connect()', async () => {
      await withTimeout(xapi.connect(), 30000, 'connect()')
      check(xapi.status === 'connected', `status ${xapi.status}`)
      check(REF_RE.test(xapi.sessionId), `sessionId ${xapi.sessionId}`)
      check(REF_RE.test(xapi.pool.$ref), `pool ref ${xapi.pool.$ref}`)
      check(REF_RE.test(xapi.pool.master), `pool.master ${xapi.pool.master}`)
      check(typeof xapi.pool.other_config === 'object', 'pool.other_config missing')
    })

    const { pool } = xapi
    await step('objects collection from get_all_records', async () => {
      await withTimeout(xapi.objectsFetched, 30000, 'objectsFetched')
      const all = Object.values(xapi.objects.all)
      const byType = {}
      for (const o of all) (byType[o.$type] ??= []).push(o)
      check(byType.pool?.length === 1, `pools in the collection: ${byType.pool?.length}`)
      check(xapi.getObjectByRef(pool.$ref).$type === 'pool', 'pool not found by ref')
      const master = xapi.getObjectByRef(pool.master, undefined)
      check(master?.$type === 'host', `pool.master ${pool.master} is not a host in the collection`)
      check(master.$pool === xapi.pool, 'host.$pool')
      const sr = xapi.getObjectByRef(pool.default_SR, undefined)
      check(sr?.$type === 'SR' && sr.type === 'ext', `default SR ${pool.default_SR} not an ext SR in the collection`)
      check(xapi.getObject(sr.uuid) === sr, 'getObject(uuid)')
      check(sr.$PBDs.length >= 1 && sr.$PBDs.every(p => p?.$type === 'PBD' && p.SR === sr.$ref), 'SR.$PBDs')
      // The collection holds exactly what get_all lists, for every type it fetched.
      for (const type of ['pool', 'host', 'SR', 'PBD', 'VDI', 'VM', 'network']) {
        const refs = (await xapi.call(`${type}.get_all`)).sort()
        const have = (byType[type] ?? []).map(o => o.$ref).sort()
        check(JSON.stringify(refs) === JSON.stringify(have), `${type}: collection ${have} but get_all ${refs}`)
        // xen-api builds one record class per type from the first record: all must have the same fields.
        const records = Object.values(await xapi.call(`${type}.get_all_records`))
        const keys = records.map(r => Object.keys(r).sort().join(','))
        check(new Set(keys).size <= 1, `${type} records do not all have the same fields`)
      }
    })

    await step('every field xo-server reads is on every record of its type', async () => {
      const missing = []
      let checked = 0
      for (const [type, fields] of Object.entries(FIELDS_READ_BY_XO)) {
        const records = await xapi.call(`${type}.get_all_records`)
        for (const [ref, record] of Object.entries(records)) {
          checked++
          for (const f of fields) if (!(f in record)) missing.push(`${type}.${f} (${ref})`)
        }
        // The client's own collection has the same records, with the same fields.
        for (const o of Object.values(xapi.objects.all).filter(o => o.$type === type)) {
          for (const f of fields) if (!(f in o)) missing.push(`collection ${type}.${f} (${o.$ref})`)
        }
      }
      check(checked > 0, 'no records checked')
      check(missing.length === 0, `fields xo-server reads are missing: ${missing.slice(0, 20).join(', ')}`)
      // Links XO follows: the host's metrics record, each VM's metrics (OpaqueRef:NULL or a record).
      const master = xapi.getObjectByRef(pool.master)
      check(master.$metrics?.$type === 'host_metrics', `host.$metrics of ${master.metrics}`)
      for (const vm of Object.values(xapi.objects.all).filter(o => o.$type === 'VM')) {
        for (const f of ['metrics', 'guest_metrics']) {
          check(vm[f] === 'OpaqueRef:NULL' || xapi.getObjectByRef(vm[f], undefined) !== undefined,
            `VM ${vm.name_label}.${f} is ${vm[f]}, neither NULL nor an object of the collection`)
        }
      }
    })

    await step('every type system.listMethods offers is a collection of get_all', async () => {
      const listed = await rawCall('system.listMethods', [])
      const types = listed.result
        .filter(m => m.endsWith('.get_all_records'))
        .map(m => m.slice(0, -'.get_all_records'.length))
      check(!types.includes('session') && !types.includes('user'), `xapi has no ${types.filter(t => t === 'session' || t === 'user')}.get_all_records`)
      for (const type of types) {
        if (type === 'task' || type === 'message') continue // come and go while the test runs
        const refs = (await xapi.call(`${type}.get_all`)).sort()
        const have = Object.values(xapi.objects.all).filter(o => o.$type === type).map(o => o.$ref).sort()
        check(JSON.stringify(refs) === JSON.stringify(have), `${type}: collection ${have.length} objects, get_all ${refs.length}`)
      }
    })

    await step('message.create and destroy arrive through events', async () => {
      const msg = await xapi.call('message.create', `XO_TEST_${transport}`, 5, 'Pool', pool.uuid, 'from xo_xen_api_test')
      const m = await waitFor('message add event', () => xapi.getObjectByRef(msg, undefined))
      check(m.$type === 'message' && m.obj_uuid === pool.uuid && m.body === 'from xo_xen_api_test', `message ${JSON.stringify(m)}`)
      await xapi.call('message.destroy', msg)
      await waitFor('message del event', () => xapi.getObjectByRef(msg, undefined) === undefined)
    })

    await step('/rrd_updates read as xo-server reads its statistics', async () => {
      const host = xapi.getObjectByRef(pool.master)
      // XO: host.get_servertime, then start = now - 120 steps + 1 step, json=true.
      const serverTime = await xapi.call('host.get_servertime', host.$ref)
      // JSON-RPC gives xapi's datetime text, XML-RPC a Date (xen-api decodes dateTime.iso8601).
      let now
      if (serverTime instanceof Date) {
        now = serverTime.getTime() / 1000
      } else {
        const m = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(serverTime)
        check(m !== null, `host.get_servertime ${serverTime}`)
        now = Date.UTC(m[1], m[2] - 1, m[3], m[4], m[5], m[6]) / 1000
      }
      check(Math.abs(now - Date.now() / 1000) < 30, `server time ${serverTime} is far from ours`)
      const step = 5
      let json
      const deadline = Date.now() + 20000
      do {
        // Without host: the resource goes to the connection's address (XO sends the host so that it
        // reaches each pool member; here there is one host, on the test's port).
        const response = await xapi.getResource('/rrd_updates', {
          query: { cf: 'AVERAGE', host: 'true', interval: step, json: 'true', start: now - step * 120 + step },
        })
        json = JSON.parse(await response.body.text())
        if (json.data.length > 0) break
        await new Promise(resolve => setTimeout(resolve, 200))
      } while (Date.now() < deadline)
      check(Number(json.meta.step) === step, `meta.step ${json.meta.step}`)
      check(json.data.length > 0, 'no rows of statistics within 20 s')
      check(json.meta.legend.length === json.data[0].values.length, 'legend and values differ in length')
      const byMetric = {}
      json.meta.legend.forEach((legend, i) => {
        const parsed = /^AVERAGE:([^:]+):(.+):(.+)$/.exec(legend)
        check(parsed !== null, `legend entry ${legend}`)
        const [, type, uuid, metric] = parsed
        if (type === 'host' && uuid === host.uuid) byMetric[metric] = +json.data[0].values[i]
      })
      for (const metric of ['memory_total_kib', 'memory_free_kib', 'cpu0', 'cpu_avg', 'loadavg']) {
        check(typeof byMetric[metric] === 'number', `host data source ${metric} missing: ${Object.keys(byMetric)}`)
      }
      check(byMetric.memory_total_kib > 0, `memory_total_kib ${byMetric.memory_total_kib}`)
      const sr8 = xapi.getObjectByRef(pool.default_SR).uuid.slice(0, 8)
      check(`io_throughput_read_${sr8}` in byMetric, `no io_throughput_read_${sr8} for the default SR`)
    })

    const sr = pool.default_SR
    let vdi
    await step('call VDI.create, the VDI arrives through event.from', async () => {
      const name = `xo-${transport}-${randomUUID().slice(0, 8)}`
      vdi = await xapi.call('VDI.create', vdiRecord(sr, name, 4 * MIB))
      created.push(vdi)
      check(REF_RE.test(vdi), `VDI.create returned ${vdi}`)
      await waitFor('VDI add event', () => xapi.getObjectByRef(vdi, undefined))
      // Like xapi, the server may send the record in more than one event (add, then mod for the
      // fields VDI.create sets after the storage backend made the VDI): wait for the cache to settle.
      const o = await waitFor('VDI other_config through events', () => {
        const v = xapi.getObjectByRef(vdi, undefined)
        return v?.other_config['xsm-test'] === 'xen-api' && v
      })
      check(o.name_label === name, `VDI name_label ${o.name_label}`)
      check(Number(o.virtual_size) >= 4 * MIB, `VDI virtual_size ${o.virtual_size}`)
      check(o.$SR === xapi.getObjectByRef(sr), 'VDI.$SR does not resolve to the SR object')
      await waitFor('SR.VDIs update event', () => xapi.getObjectByRef(sr).VDIs.includes(vdi))
    })

    await step('record helpers: set_name_label, update_other_config, change seen through events', async () => {
      const o = xapi.getObjectByRef(vdi)
      const updates = []
      const onUpdate = objects => updates.push(...Object.values(objects))
      xapi.objects.on('update', onUpdate)
      try {
        await o.set_name_label('xo-renamed')
        await waitFor('name_label mod event', () => xapi.getObjectByRef(vdi).name_label === 'xo-renamed')
        check(
          updates.some(u => u.$ref === vdi && u.name_label === 'xo-renamed'),
          "objects collection emitted no 'update' for the VDI"
        )
        await o.update_other_config('xo:key', 'value') // remove_from_ then add_to_
        await waitFor('other_config mod event', () => xapi.getObjectByRef(vdi).other_config['xo:key'] === 'value')
        await o.update_other_config('xo:key', null)
        await waitFor('other_config removal', () => !('xo:key' in xapi.getObjectByRef(vdi).other_config))
      } finally {
        xapi.objects.removeListener('update', onUpdate)
      }
    })

    let snap
    await step('callAsync VDI.snapshot: task watched through events, result parsed, task destroyed', async () => {
      const before = new Set(await xapi.call('task.get_all'))
      snap = await withTimeout(xapi.callAsync('VDI.snapshot', vdi, {}), 30000, 'callAsync(VDI.snapshot)')
      created.push(snap)
      check(REF_RE.test(snap), `callAsync(VDI.snapshot) resolved to ${JSON.stringify(snap)}`)
      const s = await waitFor('snapshot add event', () => xapi.getObjectByRef(snap, undefined))
      check(s.is_a_snapshot === true && s.snapshot_of === vdi, `snapshot record ${JSON.stringify(s)}`)
      check(s.$snapshot_of === xapi.getObjectByRef(vdi), 'snapshot.$snapshot_of')
      await waitFor('VDI.snapshots update', () => xapi.getObjectByRef(vdi).snapshots.includes(snap))
      // callAsync destroys its task once settled. The server's own background tasks (the
      // garbage collector's coalesces, SR.gc_coalesce, which may start at any time) are not ours.
      const deadline = Date.now() + 10000
      let left
      do {
        const tasks = await xapi.call('task.get_all_records')
        left = Object.keys(tasks).filter(t => !before.has(t) && tasks[t].name_label !== 'SR.gc_coalesce')
        if (left.length === 0) break
        await new Promise(resolve => setTimeout(resolve, 100))
      } while (Date.now() < deadline)
      check(left.length === 0, `tasks not destroyed after callAsync: ${left}`)
    })

    await step('errors: call and callAsync reject with XapiError code/params', async () => {
      const bogus = `OpaqueRef:${randomUUID()}`
      await expectXapiError(xapi.call('VDI.get_record', bogus), 'HANDLE_INVALID', ['VDI', bogus], 'call(VDI.get_record)')
      const e = await expectXapiError(
        withTimeout(xapi.callAsync('VDI.snapshot', bogus, {}), 30000, 'callAsync of a bad ref'),
        'HANDLE_INVALID',
        ['VDI', bogus],
        'callAsync(VDI.snapshot) of a bad ref'
      )
      check(e.task?.status === 'failure', `failed task record ${JSON.stringify(e.task)}`)
      await expectXapiError(xapi.call('VDI.frobnicate', vdi), 'MESSAGE_METHOD_UNKNOWN', ['VDI.frobnicate'], 'unknown message')
      const uuid = randomUUID()
      await expectXapiError(xapi.call('SR.get_by_uuid', uuid), 'UUID_INVALID', ['SR', uuid], 'SR.get_by_uuid')
    })

    await step('barrier() through pool.other_config and events', async () => {
      await withTimeout(xapi.barrier(), 15000, 'barrier()')
      await waitFor('barrier key removed from pool.other_config', () =>
        Object.keys(xapi.pool.other_config).every(k => !k.startsWith('xo:barrier:'))
      )
    })

    await step('SESSION_INVALID: the client logs in again, calls and events go on', async () => {
      // Another program logs the client's session out. The event loop, blocked in event.from, is
      // woken (by the session's own event) and gets SESSION_INVALID; the client logs in again.
      // Calls are held until then: xen-api 4.7.6 asserts on calls made while it renews a session.
      const old = xapi.sessionId
      const out = await rawCall('session.logout', [old])
      check(out.result === '', `raw session.logout ${JSON.stringify(out)}`)
      const again = await rawCall('VDI.get_all', [old])
      check(
        again.error?.message === 'SESSION_INVALID' && JSON.stringify(again.error.data) === JSON.stringify([old]),
        `logged-out session answered ${JSON.stringify(again)}`
      )
      await waitFor('a new session', () => REF_RE.test(xapi.sessionId ?? '') && xapi.sessionId !== old, 70000)
      const refs = await xapi.call('VDI.get_all')
      check(refs.includes(vdi), 'VDI.get_all after re-login')
      const v2 = await xapi.call('VDI.create', vdiRecord(sr, `xo-after-relogin-${transport}`, MIB))
      created.push(v2)
      await waitFor('add event after re-login', () => xapi.getObjectByRef(v2, undefined), 70000)

      // Without an event loop a call is the first to meet SESSION_INVALID: it logs in and retries.
      const plain = createClient({ ...opts, watchEvents: false })
      await withTimeout(plain.connect(), 30000, 'connect() without events')
      try {
        const first = plain.sessionId
        check((await rawCall('session.logout', [first])).result === '', 'raw logout of the second client')
        const pools = await plain.call('pool.get_all')
        check(JSON.stringify(pools) === JSON.stringify([pool.$ref]), `pool.get_all after re-login: ${pools}`)
        check(plain.sessionId !== first && REF_RE.test(plain.sessionId), 'second client did not renew its session')
      } finally {
        await plain.disconnect()
      }
    })

    await step('call/callAsync VDI.destroy, del events empty the collection', async () => {
      const [first, ...rest] = created.splice(0).reverse()
      const r = await withTimeout(xapi.callAsync('VDI.destroy', first), 30000, 'callAsync(VDI.destroy)')
      check(r === '', `callAsync(VDI.destroy) resolved to ${JSON.stringify(r)}`)
      for (const ref of rest) await xapi.call('VDI.destroy', ref)
      for (const ref of [first, ...rest]) {
        await waitFor(`del event for ${ref}`, () => xapi.getObjectByRef(ref, undefined) === undefined)
      }
      check(!xapi.getObjectByRef(sr).VDIs.includes(vdi), 'SR.VDIs still lists the destroyed VDI')
    })

    check(eventErrors.length === 0, `event loop errors: ${eventErrors.map(e => e.message)}`)

    await step('disconnect() logs the session out', async () => {
      const sessionId = xapi.sessionId
      disconnecting = true // until the next scenario connects: late replies may still come in
      await xapi.disconnect()
      check(xapi.status === 'disconnected', `status ${xapi.status}`)
      const deadline = Date.now() + 5000
      let out
      do {
        out = await rawCall('pool.get_all', [sessionId])
        if (out.error?.message === 'SESSION_INVALID') break
        await new Promise(resolve => setTimeout(resolve, 100))
      } while (Date.now() < deadline)
      check(out.error?.message === 'SESSION_INVALID', `session still valid after disconnect: ${JSON.stringify(out)}`)
    })
  } finally {
    if (xapi.status === 'connected') {
      for (const ref of created) await xapi.call('VDI.destroy', ref).catch(() => {})
      await xapi.disconnect().catch(() => {})
    }
  }
}

async function main() {
  console.log(`xen-api ${xenApiVersion}, node ${process.version}, ${url}`)
  check(xenApiVersion === '4.7.7', `xen-api ${xenApiVersion} installed, the test is written for 4.7.7`)
  for (const transport of ['auto', 'json-rpc', 'xml-rpc']) {
    await scenario(transport)
  }
  const unexpected = warnings.filter(w => !ALLOWED_WARNINGS.some(re => re.test(w)))
  check(unexpected.length === 0, `xen-api logged warnings:\n  ${unexpected.join('\n  ')}`)
}

const globalTimer = setTimeout(() => {
  console.log('FAIL: the whole run took more than 240 s')
  process.exit(1)
}, 240000)

main().then(
  () => {
    clearTimeout(globalTimer)
    console.log('xo_xen_api_test: all checks passed')
    process.exit(0)
  },
  error => {
    clearTimeout(globalTimer)
    if (error instanceof CheckFailed) {
      console.log(`FAIL: ${error.message}`)
    } else {
      console.log(`FAIL: ${error?.stack ?? error}`)
      if (error?.call) console.log(`  during ${JSON.stringify(error.call)}`)
    }
    process.exit(1)
  }
)
