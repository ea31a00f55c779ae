// Xen Orchestra's full backup and restore of a VM, through its connector (the npm package
// `xen-api`) as xo-server's VM_export and VM_import call it: GET /export/ with a task and
// use_compression (zstd, then gzip as "true"), the stream saved to a file and the task awaited;
// then PUT /import/ of a file stream without a length (the connector's 1 PiB content-length
// workaround), the new VM read from the task result with XO's OpaqueRef regular expression.
//
// usage: node xo_xva_test.mjs URL USER PASSWORD VM_UUID SR_REF DIR
// Prints "imported <compression> <VM ref>" per round trip; exits 1 on the first failed check.

import { createReadStream, createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'

const [url, user, password, vmUuid, srRef, dir] = process.argv.slice(2)
if (dir === undefined) {
  console.log('usage: node xo_xva_test.mjs URL USER PASSWORD VM_UUID SR_REF DIR')
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

const OPAQUE_REF_RE = /OpaqueRef:[0-9a-z-]+/

async function main() {
  const xapi = createClient({ url, auth: { user, password }, allowUnauthorized: true })
  try {
    await xapi.connect()
    await xapi.objectsFetched
    const vmRef = await xapi.call('VM.get_by_uuid', vmUuid)
    for (const [compression, useCompression] of [
      ['zstd', 'zstd'],
      ['gzip', 'true'],
    ]) {
      // xo-server's VM_export
      const exportTask = await xapi.call('task.create', 'VM export', '')
      const response = await xapi.getResource('/export/', {
        query: { ref: vmRef, use_compression: useCompression },
        task: exportTask,
      })
      const file = `${dir}/backup-${compression}.xva`
      await pipeline(response.body, createWriteStream(file))
      await response.task
      console.log(`ok   export ${compression}`)

      // xo-server's VM_import
      const importTask = await xapi.call('task.create', 'VM import', '')
      const result = await xapi.putResource(createReadStream(file), '/import/', {
        query: { sr_id: srRef },
        task: importTask,
      })
      const m = OPAQUE_REF_RE.exec(String(result))
      check(m !== null, `task result without a VM reference: ${JSON.stringify(result)}`)
      const name = await xapi.call('VM.get_name_label', m[0])
      const original = await xapi.call('VM.get_name_label', vmRef)
      check(name === original, `imported VM named ${name}, not ${original}`)
      const other = await xapi.call('VM.get_other_config', m[0])
      check(other.import_task === importTask, `import_task ${other.import_task}, not ${importTask}`)
      console.log(`imported ${compression} ${m[0]}`)
    }
    console.log('xo_xva_test: all checks passed')
  } finally {
    await xapi.disconnect()
  }
}

main().then(
  () => process.exit(0),
  error => {
    console.log(error instanceof CheckFailed ? `FAIL: ${error.message}` : `FAIL: ${error.stack}`)
    process.exit(1)
  }
)
