// The server's two interfaces as the console uses them: XenAPI over JSON-RPC (/jsonrpc) and the
// REST API (/api), which takes the XenAPI session in a header so no password is ever kept.

/** A XenAPI failure: code and parameters as the server sent them. */
export class XenApiError extends Error {
  constructor(description) {
    super(Array.isArray(description) ? description.join(' ') : String(description));
    this.code = Array.isArray(description) ? description[0] : String(description);
    this.params = Array.isArray(description) ? description.slice(1) : [];
  }
}

let nextId = 1;

/** One JSON-RPC v2 call; resolves with the result or rejects with a XenApiError. */
export async function rpc(method, params = []) {
  let response;
  try {
    response = await fetch('/jsonrpc', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method, params, id: nextId++ }),
    });
  } catch (e) {
    throw new XenApiError(['SERVER_UNREACHABLE', String(e.message || e)]);
  }
  if (!response.ok) {
    throw new XenApiError(['HTTP_ERROR', String(response.status)]);
  }
  const body = await response.json();
  if (body.error) {
    const e = body.error;
    throw new XenApiError([e.message, ...(Array.isArray(e.data) ? e.data : [])]);
  }
  return body.result;
}

/** A logged-in session: calls that take the session as their first parameter. */
export class Session {
  /** {@code who} is the server's /api/whoami answer: user, role, permissions. */
  constructor(ref, who) {
    this.ref = ref;
    this.user = who.user;
    this.readOnly = who.read_only;
    this.role = who.role;
    this.superuser = who.superuser;
    this.permissions = new Set(who.permissions || []);
  }

  /** Whether the user's role has a permission (xapi's name, e.g. vm.start); root has them all. */
  may(permission) {
    return this.superuser || this.permissions.has(permission);
  }

  static async login(user, password) {
    const ref = await rpc('session.login_with_password', [user, password, '1.0', 'xsm-console']);
    const who = await rest(ref, 'GET', '/api/whoami');
    return new Session(ref, who);
  }

  /** A session from an earlier page load, if the server still knows it. */
  static async resume(ref) {
    const who = await rest(ref, 'GET', '/api/whoami');
    return new Session(ref, who);
  }

  call(method, ...params) {
    return rpc(method, [this.ref, ...params]);
  }

  /** Runs Async.<method> and returns the task reference. */
  async(method, ...params) {
    return rpc('Async.' + method, [this.ref, ...params]);
  }

  rest(method, path) {
    return rest(this.ref, method, path);
  }

  logout() {
    return rpc('session.logout', [this.ref]).catch(() => undefined);
  }
}

async function rest(sessionRef, method, path) {
  let response;
  try {
    response = await fetch(path, { method, headers: { 'X-XenAPI-Session': sessionRef } });
  } catch (e) {
    throw new XenApiError(['SERVER_UNREACHABLE', String(e.message || e)]);
  }
  if (response.status === 204) {
    return null;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = body.error;
    if (response.status === 401) {
      throw new XenApiError(['SESSION_INVALID', sessionRef]);
    }
    if (response.status === 403) {
      throw new XenApiError(['RBAC_PERMISSION_DENIED', path, String(err)]);
    }
    throw new XenApiError(Array.isArray(err) ? err : ['HTTP_ERROR', String(response.status), String(err)]);
  }
  return body;
}

const SENTENCES = {
  SESSION_AUTHENTICATION_FAILED: () => 'The user name or password is wrong.',
  SESSION_INVALID: () => 'Your session has ended. Log in again.',
  RBAC_PERMISSION_DENIED: (p) => {
    const roles = /Roles with this permission: ([^)]*)/.exec(p[1] || '');
    return `Your role may not do this${p[0] ? ` (${p[0]})` : ''}${roles ? `; roles that may: ${roles[1]}` : ''}.`;
  },
  SERVER_UNREACHABLE: (p) => `The server can't be reached (${p[0]}).`,
  VM_BAD_POWER_STATE: (p) => `The VM is ${p[2]}; this needs it ${p[1]}.`,
  VM_IS_SNAPSHOT: () => 'That is a snapshot: this can only be done to a VM.',
  VM_IS_TEMPLATE: () => 'That is a template: make a VM from it first.',
  VDI_IS_SHARABLE: () => 'A disk of the VM is sharable, and sharable disks can\'t be snapshotted.',
  VDI_ON_BOOT_MODE_INCOMPATIBLE_WITH_OPERATION: () => 'A disk of the VM is reset on boot, so it can\'t be snapshotted.',
  SR_OPERATION_NOT_SUPPORTED: () => 'The storage of a disk does not support this.',
  SR_BACKEND_FAILURE_44: () => 'The storage repository is out of space.',
  SR_BACKEND_FAILURE_109: () => 'The snapshot chain is too long: delete snapshots and let the garbage collector coalesce first.',
  OTHER_OPERATION_IN_PROGRESS: () => 'Another operation on this object is still running; try again when it ends.',
  HANDLE_INVALID: (p) => `The ${p[0] || 'object'} no longer exists.`,
  UUID_INVALID: (p) => `The ${p[0] || 'object'} no longer exists.`,
  VM_REVERT_FAILED: (p) => `The revert failed: ${p.slice(1).join(' ')}`,
  VM_SNAPSHOT_FAILED: (p) => `The snapshot failed: ${p.slice(1).join(' ')}`,
  TASK_CANCELLED: () => 'The task was cancelled.',
  TASK_INTERRUPTED: (p) => `The task was interrupted: ${p.join(' ')}.`,
  INTERNAL_ERROR: (p) => `The server failed unexpectedly: ${p.join(' ')}`,
};

/** A XenAPI error (code and parameters) as a sentence for operators, with the code for support. */
export function inWords(error) {
  const description = error instanceof XenApiError ? [error.code, ...error.params]
    : Array.isArray(error) ? error : [String(error && error.message ? error.message : error)];
  const [code, ...params] = description;
  const say = SENTENCES[code] || (code && code.startsWith('SR_BACKEND_FAILURE')
    ? (p) => `The storage failed: ${p.filter(Boolean).join(' ')}`
    : null);
  const text = say ? say(params) : `The server refused: ${description.join(' ')}`;
  return say ? `${text} (${code})` : text;
}
