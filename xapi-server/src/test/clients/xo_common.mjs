// What the Xen Orchestra client scripts share: loading the connector, checks, the VDI a test makes,
// reading a stream whole, and the run itself (a time limit, one pass line or one FAIL line).
export class CheckFailed extends Error {}

export function check(cond, what) {
  if (!cond) throw new CheckFailed(what)
}

// The connector's createClient, or exit 2 saying what to install.
export async function loadXenApi() {
  try {
    return (await import('xen-api')).createClient
  } catch (error) {
    console.log(`FAIL: cannot load the npm package xen-api (${error.message}); run 'npm ci'`)
    process.exit(2)
  }
}

export async function toBuffer(stream) {
  const chunks = []
  for await (const c of stream) chunks.push(c)
  return Buffer.concat(chunks)
}

// VDI.create on the pool's default SR with every field the call takes; refs pushed to `made`.
export function vdiMaker(xapi, pool, size, made) {
  return async name => {
    const ref = await xapi.call('VDI.create', {
      name_label: name, name_description: '', SR: pool.default_SR, virtual_size: String(size),
      type: 'user', sharable: false, read_only: false, other_config: {}, xenstore_data: {},
      sm_config: {}, tags: [],
    })
    made.push(ref)
    return ref
  }
}

// Runs main within `seconds`, then prints "<name>: all checks passed" or the first failure.
export function run(name, main, seconds) {
  const timer = setTimeout(() => {
    console.log(`FAIL: the whole run took more than ${seconds} s`)
    process.exit(1)
  }, seconds * 1000)
  main().then(
    () => {
      clearTimeout(timer)
      console.log(`${name}: all checks passed`)
      process.exit(0)
    },
    error => {
      clearTimeout(timer)
      console.log(error instanceof CheckFailed ? `FAIL: ${error.message}` : `FAIL: ${error?.stack ?? error}`)
      process.exit(1)
    }
  )
}
