// The records the console shows, kept current from event.from: one full read per class at login,
// then the server's change events (each carries the record as it now is).

import { XenApiError } from './api.js';

const CLASSES = ['VM', 'VBD', 'VDI', 'SR', 'task', 'pool', 'host', 'console'];

export class Store {
  constructor(session) {
    this.session = session;
    this.records = {};
    this.listeners = new Set();
    this.running = false;
    this.pending = null;
  }

  /** Reads every record, then follows events until stop(). */
  async start() {
    const pools = await this.session.call('pool.get_all');
    // The token first, so nothing changed between the reads and the first event.from is lost.
    let token = await this.session.call('event.inject', 'pool', pools[0]);
    await this.reload();
    this.running = true;
    this.loop(token);
  }

  async reload() {
    const all = await Promise.all(
      CLASSES.map((c) => this.session.call(`${c}.get_all_records`)));
    CLASSES.forEach((c, i) => {
      this.records[c.toLowerCase()] = new Map(Object.entries(all[i]));
    });
    this.changed(new Set(CLASSES.map((c) => c.toLowerCase())));
  }

  async loop(token) {
    while (this.running) {
      try {
        const batch = await this.session.call('event.from', CLASSES, token, 30);
        token = batch.token;
        const touched = new Set();
        for (const ev of batch.events) {
          const map = this.records[ev.class];
          if (!map) {
            continue;
          }
          if (ev.operation === 'del') {
            map.delete(ev.ref);
          } else if (ev.snapshot) {
            map.set(ev.ref, ev.snapshot);
          }
          touched.add(ev.class);
        }
        if (touched.size) {
          this.changed(touched);
        }
      } catch (e) {
        if (!this.running) {
          return;
        }
        if (e instanceof XenApiError && e.code === 'SESSION_INVALID') {
          this.running = false;
          this.onSessionLost?.();
          return;
        }
        if (e instanceof XenApiError && e.code === 'EVENTS_LOST') {
          token = await this.session.call('event.inject', 'pool', [...this.records.pool.keys()][0]);
          await this.reload();
        } else {
          // The server restarting or the network dropping: try again shortly.
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    }
  }

  stop() {
    this.running = false;
  }

  /** Calls f(classes) after changes, at most about 30 times a second. */
  subscribe(f) {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  changed(classes) {
    if (this.pending) {
      classes.forEach((c) => this.pending.add(c));
      return;
    }
    this.pending = new Set(classes);
    // A timer rather than an animation frame: frames may be withheld (a hidden tab, a headless
    // browser drawing nothing), and the page must still keep up with the server.
    setTimeout(() => {
      const c = this.pending;
      this.pending = null;
      // Changes that arrive as the session ends are not drawn: the login has taken the page.
      if (this.running) {
        this.listeners.forEach((f) => f(c));
      }
    }, 30);
  }

  all(cls) {
    return [...(this.records[cls.toLowerCase()] || new Map()).entries()];
  }

  get(cls, ref) {
    return (this.records[cls.toLowerCase()] || new Map()).get(ref);
  }

  /** The VMs operators manage: not snapshots, not the control domain. */
  vms() {
    return this.all('vm')
      .filter(([, r]) => !r.is_a_snapshot && !r.is_control_domain)
      .sort((a, b) => a[1].name_label.localeCompare(b[1].name_label));
  }

  /** A VM's disks: [vbd record, vdi record or undefined]. */
  disksOf(vmRef) {
    return this.all('vbd')
      .filter(([, b]) => b.VM === vmRef && b.type === 'Disk')
      .map(([, b]) => [b, this.get('vdi', b.VDI)])
      .sort((a, b) => String(a[0].userdevice).localeCompare(String(b[0].userdevice)));
  }
}
