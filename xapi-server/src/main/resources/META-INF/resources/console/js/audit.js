// The audit page (pool-admins only): the latest write calls, logins, refusals and transfers,
// newest first, as the server's audit trail records them (no parameter values but references).

import { h, replace } from './dom.js';
import { inWords } from './api.js';

const COLUMNS = ['Time', 'User', 'Role', 'From', 'Message', 'Objects', 'Outcome'];

export class AuditPage {
  constructor(app) {
    this.app = app;
    this.entries = null;
    this.error = null;
    this.el = h('div', { class: 'audit-page' });
  }

  async refresh() {
    try {
      this.entries = await this.app.session.rest('GET', '/api/audit?limit=200');
      this.error = null;
    } catch (e) {
      this.error = inWords(e);
    }
    this.render();
  }

  onChange() {}

  shown(visible) {
    if (visible) {
      this.refresh();
    }
  }

  render() {
    replace(this.el,
      h('h2', { class: 'pane-title', tabindex: '-1' }, 'Audit'),
      this.error ? h('p', { class: 'error', role: 'alert' }, this.error) : null,
      !this.entries ? h('p', { class: 'muted' }, 'Loading…') :
        h('table', { class: 'audit', id: 'audit' },
          h('thead', {}, h('tr', {}, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, this.entries.slice().reverse().map((e) => h('tr', {},
            h('td', {}, e.time), h('td', {}, e.user), h('td', {}, e.role), h('td', {}, e.source),
            h('td', {}, e.message), h('td', {}, e.refs.join(' ')), h('td', {}, e.outcome))))));
  }
}
