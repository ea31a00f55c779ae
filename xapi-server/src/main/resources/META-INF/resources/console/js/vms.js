// The VMs page: the list, one VM's power actions and disks, and its snapshot tree with snapshot,
// revert and delete.

import { h, replace, bytes, when } from './dom.js';
import { ask, field, choice } from './dialogs.js';
import { inWords } from './api.js';
import { ConsoleCard } from './screen.js';

const READ_ONLY_TIP = 'Your role is read-only: you may look, not change.';

const POWER_ACTIONS = [
  // [label, method, extra params, states it applies to]
  ['Start', 'VM.start', [false, false], ['Halted']],
  ['Shut down', 'VM.clean_shutdown', [], ['Running']],
  ['Suspend', 'VM.suspend', [], ['Running']],
  ['Pause', 'VM.pause', [], ['Running']],
  ['Unpause', 'VM.unpause', [], ['Paused']],
  ['Resume', 'VM.resume', [false, false], ['Suspended']],
  ['Force shut down', 'VM.hard_shutdown', [], ['Running', 'Paused', 'Suspended']],
];

const DELETE_MODES = [
  ['single', 'This snapshot only', 'Its child snapshots move up to its parent. Its disks are removed; the garbage collector reclaims the space.'],
  ['with-descendants', 'This snapshot and all below it', 'Removes the whole branch, disks included.'],
  ['descendants-only', 'Only the snapshots below it', 'Keeps this snapshot, removes everything taken after it on this branch.'],
  ['metadata-only', 'The snapshot record only', 'Forgets the snapshot but keeps its disks on the SR.'],
];

export class VmsPage {
  constructor(app) {
    this.app = app;
    this.selected = null; // VM ref
    this.selectedSnapshot = new Map(); // VM ref -> snapshot uuid
    this.tree = null; // the selected VM's snapshot tree, from the REST API
    this.treeError = null;
    this.blockers = {};
    this.consoleCard = new ConsoleCard(app);
    this.el = h('div', { class: 'vms-page' });
    this.list = h('nav', { class: 'vm-list', 'aria-label': 'Virtual machines' });
    this.detail = h('section', { class: 'vm-detail', 'aria-live': 'off' });
    this.el.append(this.list, this.detail);
  }

  get store() {
    return this.app.store;
  }

  get session() {
    return this.app.session;
  }

  /** At logout: nothing scheduled or still on its way may draw, or call with the ended session. */
  stop() {
    this.stopped = true;
    this.consoleCard.closeAll();
    clearTimeout(this.extrasTimer);
  }

  async refreshExtras() {
    if (this.stopped) {
      return;
    }
    const vm = this.selected && this.store.get('vm', this.selected);
    const [blockers, tree] = await Promise.all([
      this.session.rest('GET', '/api/vms/snapshot-blockers').catch(() => ({})),
      vm ? this.session.rest('GET', `/api/vms/${vm.uuid}/snapshot-tree`)
        .then((t) => ({ t }), (e) => ({ e })) : Promise.resolve({ t: null }),
    ]);
    if (this.stopped) {
      return;
    }
    this.blockers = blockers;
    this.tree = tree.t || null;
    this.treeError = tree.e ? inWords(tree.e) : null;
    this.render();
  }

  /** Called after store changes; VM changes may change snapshot trees and blockers. */
  onChange(classes) {
    if (!this.selected || !this.store.get('vm', this.selected)) {
      this.selected = this.store.vms()[0]?.[0] || null;
    }
    if (classes.has('vm') || classes.has('vbd') || classes.has('vdi')) {
      clearTimeout(this.extrasTimer);
      this.extrasTimer = setTimeout(() => this.refreshExtras(), 150);
    }
    this.render();
  }

  select(ref) {
    this.selected = ref;
    this.tree = null;
    this.render();
    this.refreshExtras();
    this.detail.querySelector('h2')?.focus();
  }

  render() {
    if (this.stopped) {
      return;
    }
    const vms = this.store.vms();
    replace(this.list,
      h('h2', { class: 'pane-title' }, 'Virtual machines'),
      vms.length === 0 ? h('p', { class: 'muted' }, 'No VMs.') : h('ul', { class: 'plain' },
        vms.map(([ref, vm]) => h('li', {},
          h('button', {
            class: 'vm-item', 'data-key': `vm-${vm.uuid}`, 'aria-current': ref === this.selected ? 'true' : false,
            onclick: () => this.select(ref),
          },
          h('span', { class: 'vm-name' }, vm.name_label),
          powerBadge(vm.power_state),
          vm.is_a_template ? h('span', { class: 'badge' }, 'template') : null)))));
    const vm = this.selected && this.store.get('vm', this.selected);
    if (!vm) {
      this.consoleCard.closeAll();
      replace(this.detail, h('p', { class: 'muted' }, 'Select a VM.'));
      return;
    }
    replace(this.detail,
      h('header', { class: 'detail-head' },
        h('h2', { tabindex: '-1', id: 'vm-title' }, vm.name_label),
        powerBadge(vm.power_state)),
      vm.name_description ? h('p', { class: 'muted' }, vm.name_description) : null,
      this.powerBar(this.selected, vm),
      this.consoleCard.render(this.selected, vm, this.store.all('console').filter(([, c]) => c.VM === this.selected),
        this.button.bind(this)),
      this.disks(this.selected),
      this.snapshots(this.selected, vm));
  }

  /**
   * A change button: disabled with a tooltip for the read-only role, for a role without the
   * button's permission (xapi's name of the message it calls), or when not applicable.
   */
  button(label, key, onclick, why, extra = {}, permission = null) {
    const reason = this.session.readOnly ? READ_ONLY_TIP
      : permission && !this.session.may(permission)
        ? `Your role (${this.session.role}) may not do this: it needs ${permission}.`
        : why;
    return h('button', {
      type: 'button', 'data-key': key, disabled: !!reason, title: reason || undefined, onclick, ...extra,
    }, label);
  }

  powerBar(ref, vm) {
    return h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Power' },
      POWER_ACTIONS.map(([label, method, extra, states]) => this.button(label, `power-${method}`,
        () => this.app.run(`${label}: ${vm.name_label}`, () => this.session.call(method, ref, ...extra)),
        states.includes(vm.power_state) ? null : `The VM is ${vm.power_state}.`, {}, method.toLowerCase())),
      this.button('Copy…', 'vm-copy', () => this.copy(ref, vm),
        vm.power_state === 'Halted' ? null : 'Shut the VM down to copy it.', {}, 'vm.copy'));
  }

  disks(ref) {
    const rows = this.store.disksOf(ref);
    return h('section', { class: 'card', 'aria-labelledby': 'disks-title' },
      h('h3', { id: 'disks-title' }, 'Disks'),
      rows.length === 0 ? h('p', { class: 'muted' }, 'No disks.') :
        h('ul', { class: 'plain disk-list' }, rows.map(([vbd, vdi]) => {
          const sr = vdi && this.store.get('sr', vdi.SR);
          return h('li', {},
            h('span', { class: 'disk-dev' }, `xvd${String.fromCharCode(97 + Number(vbd.userdevice || 0))}`),
            h('span', {}, vdi ? vdi.name_label : '(empty)'),
            vdi ? h('span', { class: 'muted' }, `${bytes(vdi.virtual_size)} on ${sr ? sr.name_label : 'unknown SR'}`) : null);
        })));
  }

  snapshots(ref, vm) {
    const blocker = this.blockers[vm.uuid];
    const chosen = this.selectedSnapshot.get(ref);
    const nodes = flatten(this.tree?.roots || []);
    const selectedNode = nodes.find((n) => n.uuid === chosen);
    const noneChosen = 'Select a snapshot in the tree first.';
    const note = blocker ? h('p', { class: 'note', id: 'snapshot-blocked' }, `Snapshots unavailable: ${blocker}`) : null;
    return h('section', { class: 'card', 'aria-labelledby': 'snaps-title' },
      h('h3', { id: 'snaps-title' }, 'Snapshots'),
      h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Snapshot actions' },
        this.button('Take snapshot…', 'snap-take', () => this.take(ref, vm), blocker,
          { class: 'primary', 'aria-describedby': blocker ? 'snapshot-blocked' : undefined }, 'vm.snapshot'),
        this.button('Revert…', 'snap-revert', () => this.revert(ref, vm, selectedNode), selectedNode ? null : noneChosen,
          {}, 'vm.revert'),
        this.button('Delete…', 'snap-delete', () => this.remove(vm, selectedNode), selectedNode ? null : noneChosen,
          {}, 'vm.destroy')),
      note,
      this.treeError ? h('p', { class: 'error', role: 'alert' }, this.treeError) : null,
      !this.tree ? h('p', { class: 'muted' }, 'Loading…') :
        nodes.length === 0 ? h('p', { class: 'muted' }, 'No snapshots yet.') :
          h('fieldset', { class: 'snap-tree' },
            h('legend', { class: 'visually-hidden' }, 'Snapshot tree'),
            h('ul', { class: 'tree', role: 'list' },
              this.tree.roots.map((n) => this.node(ref, n, chosen)),
              this.tree.current ? null : nowRow())));
  }

  node(vmRef, n, chosen) {
    const id = `snap-${n.uuid}`;
    return h('li', { class: 'tree-item' },
      h('div', { class: `snap-row${n.current ? ' is-current' : ''}` },
        h('input', {
          type: 'radio', name: 'snapshot', id, value: n.uuid, checked: n.uuid === chosen, 'data-key': id,
          onchange: () => {
            this.selectedSnapshot.set(vmRef, n.uuid);
            this.render();
          },
        }),
        h('label', { for: id },
          h('span', { class: 'snap-name' }, n.name),
          n.description ? h('span', { class: 'snap-description' }, n.description) : null,
          h('span', { class: 'snap-time' }, when(n.time)),
          h('span', { class: 'snap-state' }, n.checkpoint ? `${n.powerStateAtSnapshot || '?'} + memory` : (n.powerStateAtSnapshot || '')),
          n.current ? h('span', { class: 'current-mark', title: 'Current snapshot: the VM is this snapshot plus what changed since' }, '✓ current') : null)),
      (n.children.length || n.current) ? h('ul', { class: 'tree', role: 'list' },
        n.children.map((c) => this.node(vmRef, c, chosen)),
        n.current ? nowRow() : null) : null);
  }

  async take(ref, vm) {
    const running = vm.power_state === 'Running';
    const form = await ask({
      id: 'snapshot-dialog',
      title: `Take a snapshot of ${vm.name_label}`,
      confirm: 'Take snapshot',
      body: [
        field('Name', h('input', { name: 'name', required: true, autofocus: true, autocomplete: 'off',
          value: `${vm.name_label} ${new Date().toLocaleString()}` })),
        field('Description', h('textarea', { name: 'description', rows: 2 })),
        choice('What to save', 'kind', [
          ['disks', 'Disks only', 'A crash-consistent copy of the disks; reverting ends with the VM shut down.'],
          ['memory', 'Disks and memory', running
            ? 'Also saves the running memory; reverting resumes the VM where it was.'
            : 'Only while the VM runs.', !running],
        ], 'disks'),
      ],
    });
    if (!form) {
      return;
    }
    const name = form.get('name');
    const description = form.get('description');
    const memory = form.get('kind') === 'memory';
    // The new snapshot becomes the selection, unless the user chose another one meanwhile: a task
    // that ends later must not move a selection made after it started.
    const selectedBefore = this.selectedSnapshot.get(ref);
    this.app.runTask(`Snapshot ${name}`, () => this.session.async(memory ? 'VM.checkpoint' : 'VM.snapshot', ref, name),
      async (snapRef) => {
        if (description && snapRef) {
          await this.session.call('VM.set_name_description', snapRef, description);
        }
        const snap = snapRef && this.store.get('vm', snapRef);
        if (snap && this.selectedSnapshot.get(ref) === selectedBefore) {
          this.selectedSnapshot.set(ref, snap.uuid);
        }
        this.refreshExtras();
      });
  }

  async revert(ref, vm, node) {
    const snapRef = this.store.all('vm').find(([, r]) => r.uuid === node.uuid)?.[0];
    const disks = this.store.disksOf(ref).filter(([, vdi]) => vdi).map(([, vdi]) => vdi.name_label);
    const end = node.checkpoint ? 'suspended, with the memory saved in the snapshot' : 'shut down';
    const form = await ask({
      id: 'revert-dialog',
      title: `Revert ${vm.name_label} to “${node.name}”?`,
      confirm: 'Revert and lose changes',
      danger: true,
      body: [
        h('p', {}, `The VM's disks go back to how they were at ${when(node.time) || 'the snapshot'}.`),
        h('p', { class: 'warning' }, h('strong', {}, 'Lost: '),
          `everything written to ${disks.length ? disks.join(', ') : 'its disks'} since then that no other snapshot holds`,
          vm.power_state !== 'Halted' ? `, and the VM's current ${vm.power_state.toLowerCase()} state (it is stopped first)` : '', '.'),
        h('p', {}, `Afterwards the VM is ${end}. Snapshots are kept.`),
      ],
    });
    if (!form || !snapRef) {
      return;
    }
    this.app.runTask(`Revert to ${node.name}`, () => this.session.async('VM.revert', snapRef),
      () => this.refreshExtras());
  }

  async remove(vm, node) {
    const hasChildren = node.children.length > 0;
    const form = await ask({
      id: 'delete-dialog',
      title: `Delete snapshot “${node.name}”`,
      confirm: 'Delete',
      danger: true,
      body: [
        choice('What to delete', 'mode', DELETE_MODES.map(([v, l, d]) =>
          [v, l, v === 'descendants-only' && !hasChildren ? 'It has no snapshots below it.' : d,
            v === 'descendants-only' && !hasChildren]), 'single'),
      ],
    });
    if (!form) {
      return;
    }
    const mode = form.get('mode');
    await this.app.run(`Delete ${node.name} (${mode})`, async () => {
      await this.session.rest('DELETE', `/api/snapshots/${node.uuid}?mode=${encodeURIComponent(mode)}`);
      if (mode !== 'descendants-only') {
        this.selectedSnapshot.delete(this.selected);
      }
      await this.refreshExtras();
    });
  }

  async copy(ref, vm) {
    const srs = this.store.all('sr').filter(([, s]) => s.content_type !== 'iso');
    const form = await ask({
      id: 'copy-dialog',
      title: `Copy ${vm.name_label}`,
      confirm: 'Copy',
      body: [
        field('Name of the copy', h('input', { name: 'name', required: true, autofocus: true, value: `Copy of ${vm.name_label}` })),
        field('Storage', h('select', { name: 'sr' }, srs.map(([r, s]) => h('option', { value: r }, s.name_label))),
          'Every disk is copied in full to this SR.'),
      ],
    });
    if (!form) {
      return;
    }
    this.app.runTask(`Copy ${vm.name_label}`, () => this.session.async('VM.copy', ref, form.get('name'), form.get('sr')));
  }
}

function nowRow() {
  return h('li', { class: 'tree-item now' }, h('div', { class: 'snap-row' },
    h('span', { class: 'now-dot', 'aria-hidden': 'true' }), h('span', {}, 'Now: the VM as it runs')));
}

function flatten(nodes) {
  return nodes.flatMap((n) => [n, ...flatten(n.children)]);
}

export function powerBadge(state) {
  return h('span', { class: `badge state-${String(state).toLowerCase()}` }, state);
}

export { READ_ONLY_TIP };
