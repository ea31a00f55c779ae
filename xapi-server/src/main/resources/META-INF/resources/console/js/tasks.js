// The tasks page: long operations (copy, snapshot, revert, import, export, coalesce: any task the
// server records) with their progress, updated live from task events, and errors in words.

import { h, replace, when } from './dom.js';
import { inWords } from './api.js';

export class TasksPage {
  constructor(app) {
    this.app = app;
    this.el = h('div', { class: 'tasks-page' });
  }

  onChange(classes) {
    if (classes.has('task')) {
      this.render();
    }
  }

  tasks() {
    return this.app.store.all('task')
      .sort((a, b) => String(b[1].created).localeCompare(String(a[1].created)) || b[0].localeCompare(a[0]));
  }

  running() {
    return this.app.store.all('task').filter(([, t]) => t.status === 'pending' || t.status === 'cancelling').length;
  }

  /** Forgets finished tasks (task.destroy), as XenAPI clients do once they have read them. */
  async clear() {
    const done = this.tasks().filter(([, t]) => !['pending', 'cancelling'].includes(t.status));
    await this.app.run(`Clear ${done.length} finished tasks`,
      () => Promise.all(done.map(([ref]) => this.app.session.call('task.destroy', ref))));
  }

  render() {
    const tasks = this.tasks();
    const finished = tasks.length - this.running();
    const readOnly = this.app.session.readOnly;
    const why = readOnly ? 'Your role is read-only: you may look, not change.'
      : finished === 0 ? 'No finished tasks.' : null;
    replace(this.el,
      h('div', { class: 'detail-head' },
        h('h2', { class: 'pane-title', tabindex: '-1' }, 'Tasks'),
        h('button', { type: 'button', 'data-key': 'tasks-clear', disabled: !!why, title: why || undefined,
          onclick: () => this.clear() }, 'Clear finished')),
      tasks.length === 0 ? h('p', { class: 'muted' }, 'No tasks.') :
        h('table', { class: 'tasks' },
          h('caption', { class: 'visually-hidden' }, 'Tasks, newest first'),
          h('thead', {}, h('tr', {},
            ['Task', 'Status', 'Progress', 'Started', 'Finished'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, tasks.map(([ref, t]) => row(ref, t)))));
  }
}

function row(ref, t) {
  const pct = Math.round(100 * (Number(t.progress) || 0));
  const failed = t.status === 'failure';
  return h('tr', { class: `task task-${t.status}`, 'data-task': ref },
    h('th', { scope: 'row', 'data-label': 'Task' },
      h('span', { class: 'task-name' }, t.name_label || '(unnamed)'),
      t.name_description ? h('span', { class: 'muted' }, ` ${t.name_description}`) : null,
      failed ? h('p', { class: 'error task-error' }, inWords(t.error_info || [])) : null),
    h('td', { 'data-label': 'Status' }, h('span', { class: `badge status-${t.status}` }, t.status)),
    h('td', { 'data-label': 'Progress' },
      h('progress', { max: 100, value: pct, 'aria-label': `${t.name_label} progress` }),
      h('span', { class: 'pct' }, ` ${pct}%`)),
    h('td', { 'data-label': 'Started' }, when(t.created)),
    h('td', { 'data-label': 'Finished' }, t.status === 'pending' ? '' : when(t.finished)));
}
