// The console's shell: login, the three pages, the live record store, and running actions with
// their outcome announced in words.

import { Session, inWords } from './api.js';
import { h, replace } from './dom.js';
import { Store } from './store.js';
import { VmsPage } from './vms.js';
import { StoragePage } from './storage.js';
import { TasksPage } from './tasks.js';
import { AuditPage } from './audit.js';

const PAGES = [
  ['vms', 'VMs'],
  ['storage', 'Storage'],
  ['tasks', 'Tasks'],
];

class App {
  constructor(root) {
    this.root = root;
    this.session = null;
    this.store = null;
    this.page = 'vms';
    this.notices = h('div', { id: 'notices', class: 'notices', 'aria-live': 'polite' });
  }

  showLogin(message) {
    document.title = 'Log in · xsm console';
    const error = h('p', { class: 'error', id: 'login-error', role: 'alert', hidden: !message }, message || '');
    const user = h('input', { id: 'user', name: 'user', autocomplete: 'username', required: true, autofocus: true });
    const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
    const form = h('form', { class: 'login card', 'aria-labelledby': 'login-title' },
      h('h1', { id: 'login-title' }, 'xsm console'),
      h('p', { class: 'muted' }, 'Log in with your XenAPI user.'),
      h('div', { class: 'field' }, h('label', { for: 'user' }, 'User'), user),
      h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), password),
      error,
      submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      submit.disabled = true;
      error.hidden = true;
      try {
        const session = await Session.login(user.value, password.value);
        password.value = '';
        await this.start(session);
      } catch (err) {
        error.textContent = inWords(err);
        error.hidden = false;
        password.select();
        password.focus();
      } finally {
        submit.disabled = false;
      }
    });
    replace(this.root, h('main', { class: 'login-page' }, form));
    user.focus();
  }

  async start(session) {
    this.session = session;
    sessionStorage.setItem('xsm-session', session.ref);
    this.store = new Store(session);
    this.store.onSessionLost = () => this.logout('Your session has ended. Log in again.');
    this.vms = new VmsPage(this);
    this.storage = new StoragePage(this);
    this.tasks = new TasksPage(this);
    this.audit = new AuditPage(this);
    this.store.subscribe((classes) => {
      this.vms.onChange(classes);
      this.storage.onChange(classes);
      this.tasks.onChange(classes);
      this.renderNav();
      this.watchTasks();
    });
    this.renderShell();
    await this.store.start();
    this.vms.refreshExtras();
  }

  renderShell() {
    document.title = 'xsm console';
    const pool = () => this.store.all('pool')[0]?.[1]?.name_label || 'xsm';
    this.nav = h('nav', { class: 'tabs', 'aria-label': 'Pages' });
    this.main = h('main', { id: 'main', tabindex: '-1' });
    replace(this.root,
      h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
      h('header', { class: 'top' },
        h('span', { class: 'brand' }, 'xsm', h('span', { class: 'brand-sub' }, ' console')),
        h('span', { class: 'pool', id: 'pool-name' }, pool()),
        h('span', { class: 'who' },
          h('span', { id: 'user-name' }, this.session.user),
          this.session.superuser ? null : h('span', { class: 'badge role', id: 'role' }, this.session.role),
          h('button', { type: 'button', onclick: () => this.logout() }, 'Log out'))),
      this.nav,
      this.notices,
      this.main);
    this.renderNav();
    this.showPage(this.page, false);
  }

  renderNav() {
    if (!this.nav) {
      return;
    }
    const running = this.tasks.running();
    replace(this.nav, this.pages().map(([id, label]) => h('button', {
      type: 'button', 'data-key': `tab-${id}`, 'aria-current': this.page === id ? 'page' : false,
      onclick: () => this.showPage(id, true),
    }, label, id === 'tasks' && running ? h('span', { class: 'count' }, ` ${running} running`) : null)));
    const name = document.getElementById('pool-name');
    if (name) {
      name.textContent = this.store.all('pool')[0]?.[1]?.name_label || 'xsm';
    }
  }

  /** The pages this user has: the audit trail is for pool-admins. */
  pages() {
    const admin = this.session.superuser || this.session.role === 'pool-admin';
    return admin ? [...PAGES, ['audit', 'Audit']] : PAGES;
  }

  showPage(id, focus) {
    this.page = id;
    const page = { vms: this.vms, storage: this.storage, tasks: this.tasks, audit: this.audit }[id];
    this.storage.shown(id === 'storage');
    this.audit.shown(id === 'audit');
    page.render();
    replace(this.main, page.el);
    this.renderNav();
    if (focus) {
      (page.el.querySelector('h2') || this.main).focus();
    }
  }

  /** Shows a message in the notice area; errors also interrupt screen readers. */
  notify(text, kind = 'info') {
    const n = h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
      text, h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => n.remove() }, '×'));
    this.notices.prepend(n);
    while (this.notices.children.length > 3) {
      this.notices.lastChild.remove();
    }
    if (kind !== 'error') {
      setTimeout(() => n.remove(), 8000);
    }
  }

  /** Runs a quick action, saying what failed in words. */
  async run(label, action) {
    try {
      await action();
      this.notify(`${label}: done.`);
    } catch (e) {
      this.notify(`${label}: ${inWords(e)}`, 'error');
    }
  }

  /**
   * Starts a task (action resolves to its reference); its progress shows on the Tasks page and
   * its end here. then(resultRef) runs after success.
   */
  async runTask(label, action, then) {
    let ref;
    try {
      ref = await action();
    } catch (e) {
      this.notify(`${label}: ${inWords(e)}`, 'error');
      return;
    }
    // Says on the task itself what it is about, for everyone watching the Tasks page.
    this.session.call('task.set_name_description', ref, label).catch(() => undefined);
    this.watched = this.watched || new Map();
    this.watched.set(ref, { label, then });
    this.notify(`${label}: started.`);
    this.watchTasks();
  }

  watchTasks() {
    if (!this.watched) {
      return;
    }
    for (const [ref, w] of this.watched) {
      const t = this.store.get('task', ref);
      if (!t || t.status === 'pending' || t.status === 'cancelling') {
        continue;
      }
      this.watched.delete(ref);
      if (t.status === 'success') {
        const result = /<value>(.*)<\/value>/.exec(t.result || '')?.[1];
        this.notify(`${w.label}: done.`);
        Promise.resolve(w.then?.(result)).catch((e) => this.notify(`${w.label}: ${inWords(e)}`, 'error'));
      } else {
        this.notify(`${w.label}: ${inWords(t.error_info || [t.status])}`, 'error');
      }
    }
  }

  async logout(message) {
    this.store?.stop();
    this.vms?.stop();
    this.storage?.stop();
    sessionStorage.removeItem('xsm-session');
    const s = this.session;
    this.session = null;
    this.nav = null;
    this.watched = null;
    // The next user must not read what this one did.
    this.notices.replaceChildren();
    if (s && !message) {
      await s.logout();
    }
    this.showLogin(message);
  }
}

const app = new App(document.getElementById('app'));
// A reload keeps the session (this tab only; never a password), if the server still knows it.
const saved = sessionStorage.getItem('xsm-session');
if (saved) {
  Session.resume(saved).then((s) => app.start(s), () => {
    sessionStorage.removeItem('xsm-session');
    app.showLogin();
  });
} else {
  app.showLogin();
}
