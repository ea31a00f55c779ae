// The storage page: every SR with its figures and garbage-collector state, and its VDIs drawn as
// VHD trees: base copies (hidden, holding blocks their children share), snapshots and leaves.

import { h, replace, bytes, percent } from './dom.js';
import { inWords } from './api.js';

export class StoragePage {
  constructor(app) {
    this.app = app;
    this.srs = null;
    this.error = null;
    this.el = h('div', { class: 'storage-page' });
  }

  /** At logout: the timer and the poll end, and a read still on its way is not drawn. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.poll);
  }

  async refresh() {
    if (this.stopped) {
      return;
    }
    try {
      this.srs = await this.app.session.rest('GET', '/api/srs');
      this.error = null;
    } catch (e) {
      this.error = inWords(e);
    }
    if (!this.stopped) {
      this.render();
    }
  }

  onChange(classes) {
    if (classes.has('sr') || classes.has('vdi') || classes.has('vm')) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.refresh(), 200);
    }
  }

  /** While shown, the GC state is polled too: it changes without a record changing. */
  shown(visible) {
    clearInterval(this.poll);
    if (visible) {
      this.refresh();
      this.poll = setInterval(() => this.refresh(), 3000);
    }
  }

  render() {
    replace(this.el,
      h('h2', { class: 'pane-title', tabindex: '-1' }, 'Storage'),
      this.error ? h('p', { class: 'error', role: 'alert' }, this.error) : null,
      !this.srs ? h('p', { class: 'muted' }, 'Loading…') :
        this.srs.map((sr) => this.sr(sr)),
      legend());
  }

  sr(sr) {
    const size = Number(sr.physical_size) || 0;
    const used = Number(sr.physical_utilisation) || 0;
    const alloc = Number(sr.virtual_allocation) || 0;
    const gc = sr.gc || {};
    const counters = gc.counters || {};
    return h('section', { class: 'card sr', 'aria-labelledby': `sr-${sr.uuid}` },
      h('header', { class: 'detail-head' },
        h('h3', { id: `sr-${sr.uuid}` }, sr.name_label),
        h('span', { class: 'badge' }, sr.type),
        sr.shared ? h('span', { class: 'badge' }, 'shared') : null),
      h('dl', { class: 'facts' },
        h('div', {}, h('dt', {}, 'Size'), h('dd', {}, size ? bytes(size) : 'unknown')),
        h('div', {}, h('dt', {}, 'Used'), h('dd', {},
          `${bytes(used)} (${percent(used, size)})`,
          h('meter', { min: 0, max: size || 1, value: used, high: (size || 1) * 0.85, 'aria-label': 'Utilisation' }))),
        h('div', {}, h('dt', {}, 'Virtual allocation'), h('dd', {}, `${bytes(alloc)} (${percent(alloc, size)} of size)`)),
        h('div', {}, h('dt', {}, 'Garbage collector'), h('dd', { class: 'gc-status' },
          gcWords(gc.status),
          gc.step_progress >= 0 ? h('progress', { max: 1, value: gc.step_progress, 'aria-label': 'Coalesce progress' }) : null)),
        h('div', {}, h('dt', {}, 'Reclaimable'), h('dd', { class: 'gc-backlog' }, backlogWords(gc.backlog || {}))),
        h('div', {}, h('dt', {}, 'GC so far'), h('dd', {},
          `${counters.runs || 0} runs, ${counters.coalesced || 0} coalesced, ${counters.leaf_coalesced || 0} leaf-coalesced, `
          + `${counters.garbage_deleted || 0} deleted, ${bytes(counters.bytes_copied || 0)} copied`
          + (counters.no_space ? `, ${counters.no_space} skipped for lack of space` : '')))),
      h('h4', {}, 'VHD trees'),
      sr.trees.length === 0 ? h('p', { class: 'muted' }, 'No VDIs.') :
        h('ul', { class: 'tree vhd-tree', role: 'list' }, sr.trees.map((n) => vdiNode(n))));
  }
}

function backlogWords(b) {
  const work = Number(b.backlog_bytes) || 0;
  const chains = Number(b.chains) || 0;
  const garbage = Number(b.garbage_files) || 0;
  let s = `${bytes(Number(b.reclaimable_bytes) || 0)}`;
  if (work || chains || garbage) {
    s += ` (${chains} chain${chains === 1 ? '' : 's'} to shorten, ${garbage} garbage file${garbage === 1 ? '' : 's'}, `
      + `${bytes(work)} to copy`;
    const eta = Number(b.eta_seconds);
    s += eta > 0 ? `, about ${eta} s)` : eta < 0 ? ', collector off)' : ')';
  }
  return s + `; longest chain ${Number(b.longest_chain) || 0}`;
}

function gcWords(status) {
  if (!status || status === 'idle') {
    return 'idle';
  }
  if (status.startsWith('gc finished')) {
    return 'idle (last run finished)';
  }
  // Node UUIDs cut to the 8 characters the trees show.
  return status.replace(/\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '$1');
}

function kind(n) {
  if (n.base_copy) {
    return ['base', 'base copy'];
  }
  if (n.is_a_snapshot) {
    return ['snapshot', 'snapshot'];
  }
  return ['leaf', n.children.length ? 'disk' : 'leaf'];
}

function vdiNode(n) {
  const [cls, label] = kind(n);
  return h('li', { class: 'tree-item' },
    h('div', { class: `vdi-row vdi-${cls}`, 'data-vdi': n.uuid },
      h('span', { class: `kind kind-${cls}` }, label),
      h('span', { class: 'vdi-name' }, n.name_label || '(unnamed)'),
      h('span', { class: 'vdi-figures' },
        `${bytes(n.virtual_size)} virtual · ${bytes(n.physical_utilisation)} on disk · depth ${n.chain_depth}`),
      n.vms.length ? h('span', { class: 'vdi-vms muted' }, n.vms.join(', ')) : null,
      h('code', { class: 'uuid', title: n.uuid }, n.uuid.slice(0, 8))),
    n.children.length ? h('ul', { class: 'tree', role: 'list' }, n.children.map(vdiNode)) : null);
}

function legend() {
  return h('p', { class: 'muted legend' },
    h('span', { class: 'kind kind-base' }, 'base copy'), ' hidden, read-only; holds the blocks its children share. ',
    h('span', { class: 'kind kind-snapshot' }, 'snapshot'), ' read-only point in time. ',
    h('span', { class: 'kind kind-leaf' }, 'leaf'), ' a disk VMs write to. Depth is the VHD chain length (limit 30).');
}
