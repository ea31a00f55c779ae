// Xen Orchestra's connector pointed at a pool MEMBER: it is told HOST_IS_SLAVE with the master's
// address, follows it (same scheme and port, the master's host name), and works there: a VM with a
// disk is snapshotted and reverted through the connector, and the pool has the expected hosts.
//
// usage: node xo_pool_test.mjs MEMBER_URL USER PASSWORD MASTER_ADDRESS HOST_COUNT
import { check, loadXenApi, run, vdiMaker } from './xo_common.mjs'

const [url, user, password, masterAddress, hostCount] = process.argv.slice(2)

run('xo_pool_test', async () => {
  const createClient = await loadXenApi()
  const xapi = createClient({ url, auth: { user, password }, allowUnauthorized: true, readOnly: false })
  await xapi.connect()
  try {
    check(xapi._url.hostname === masterAddress, `the connector follows to the master ${masterAddress}: at ${xapi._url.hostname}`)
    const hosts = await xapi.call('host.get_all')
    check(hosts.length === Number(hostCount), `${hostCount} hosts in the pool: ${hosts.length}`)
    const [poolRef] = await xapi.call('pool.get_all')
    const pool = await xapi.call('pool.get_record', poolRef)
    const master = await xapi.call('host.get_record', pool.master)
    check(master.address === masterAddress, `pool.master is the host at ${masterAddress}: ${master.address}`)
    const made = []
    const vdi = await vdiMaker(xapi, pool, 16 * 1024 * 1024, made)('pool disk')
    const vm = await xapi.call('VM.create', {
      name_label: 'pool vm', name_description: '', user_version: '1', is_a_template: false,
      affinity: 'OpaqueRef:NULL', memory_static_max: '268435456', memory_dynamic_max: '268435456',
      memory_dynamic_min: '268435456', memory_static_min: '268435456', VCPUs_params: {},
      VCPUs_max: '1', VCPUs_at_startup: '1', actions_after_shutdown: 'destroy',
      actions_after_reboot: 'restart', actions_after_crash: 'restart', PV_bootloader: '',
      PV_kernel: '', PV_ramdisk: '', PV_args: '', PV_bootloader_args: '', PV_legacy_args: '',
      HVM_boot_policy: 'BIOS order', HVM_boot_params: {}, platform: {}, PCI_bus: '',
      other_config: {}, recommendations: '', xenstore_data: {}, ha_always_run: false,
      ha_restart_priority: '', tags: [], blocked_operations: {}, protection_policy: 'OpaqueRef:NULL',
      is_snapshot_from_vmpp: false, appliance: 'OpaqueRef:NULL', start_delay: '0',
      shutdown_delay: '0', order: '0', suspend_SR: 'OpaqueRef:NULL', version: '0',
      generation_id: '', hardware_platform_version: '0', has_vendor_device: false,
      is_vmss_snapshot: false, snapshot_schedule: 'OpaqueRef:NULL',
    })
    await xapi.call('VBD.create', {
      VM: vm, VDI: vdi, userdevice: '0', bootable: true, mode: 'RW', type: 'Disk', unpluggable: true,
      empty: false, other_config: {}, qos_algorithm_type: '', qos_algorithm_params: {},
    })
    const snap = await xapi.callAsync('VM.snapshot', vm, 'through a member')
    check((await xapi.call('VM.get_snapshot_of', snap)) === vm, 'the snapshot is of the VM')
    await xapi.call('VM.set_name_label', vm, 'renamed after the snapshot')
    await xapi.callAsync('VM.revert', snap)
    check((await xapi.call('VM.get_name_label', vm)) === 'pool vm', 'the revert restored the name')
    console.log(`vm ${await xapi.call('VM.get_uuid', vm)}`)
  } finally {
    await xapi.disconnect()
  }
}, 120)
