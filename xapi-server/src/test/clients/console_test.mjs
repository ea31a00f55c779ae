// Drives the admin console in Debian's chromium (headless, through playwright-core) against a
// running xsm server with XSM_DEMO content, as an operator would: log in, snapshot, revert, delete
// in every mode, watch a copy task's progress, the read-only and vm-operator roles, keyboard-only
// use, and a wide and a narrow window. Prints one "ok" line per check; exits 1 at the first
// failure, naming it.
//
// node console_test.mjs <base-url> <root-password> <read-only-user> <read-only-password> <screenshot-dir>
//   <vm-operator-user> <vm-operator-password>

import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, rootPassword, roUser, roPassword, shots, opUser, opPassword] = process.argv.slice(2);
if (!opPassword) {
  console.error('usage: node console_test.mjs <base-url> <root-password> <ro-user> <ro-password> <screenshot-dir>'
    + ' <vm-operator-user> <vm-operator-password>');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const READ_ONLY_TIP = 'Your role is read-only';
const TIMEOUT = 20_000;

let step = 'start';
function ok(what) {
  console.log(`ok ${what}`);
}
function check(condition, what) {
  if (!condition) {
    throw new Error(`check failed: ${what}`);
  }
}

const profile = mkdtempSync(join(tmpdir(), 'xsm-console-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
context.setDefaultTimeout(TIMEOUT);
const page = context.pages()[0] || await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => {
  if (m.type() === 'error' && !/status of (401|403)/.test(m.text())) {
    pageErrors.push(m.text());
  }
});

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
const row = (name) => page.locator('.snap-row').filter({ has: page.locator('.snap-name', { hasText: new RegExp(`^${name}$`) }) });
const currentName = () => page.locator('.snap-row.is-current .snap-name').textContent();

async function waitCurrent(name) {
  await page.locator('.snap-row.is-current .snap-name', { hasText: new RegExp(`^${name}$`) }).waitFor();
  check(await page.locator('.current-mark').count() === 1, 'exactly one check mark');
}

async function login(user, password) {
  await page.fill('#user', user);
  await page.fill('#password', password);
  await page.click('form.login button[type=submit]');
}

async function selectVm(name) {
  await page.click('nav.tabs button[data-key=tab-vms]');
  await page.locator('.vm-item').filter({ has: page.locator('.vm-name', { hasText: new RegExp(`^${name}$`) }) }).click();
  await page.locator('#vm-title', { hasText: name }).waitFor();
}

async function takeSnapshot(name, { memory = false, description = '' } = {}) {
  const dialog = page.locator('#snapshot-dialog');
  // The VM's page redraws on every event (after a power change several arrive); a click that
  // lands while the button is being replaced by its twin does nothing, so click again once the
  // new one is there, a bounded number of times.
  for (let attempt = 1; ; attempt++) {
    await page.locator('button[data-key=snap-take]:not([disabled])').click();
    try {
      await dialog.waitFor({ timeout: 5000 });
      break;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
  await dialog.locator('input[name=name]').fill(name);
  if (description) {
    await dialog.locator('textarea[name=description]').fill(description);
  }
  await dialog.locator(`input[name=kind][value=${memory ? 'memory' : 'disks'}]`).check();
  if (memory) {
    await shot('03a-snapshot-dialog');
  }
  await dialog.locator('button[type=submit]').click();
  await waitCurrent(name);
}

async function deleteSnapshot(name, mode) {
  await row(name).locator('input[type=radio]').check();
  await page.click('button[data-key=snap-delete]');
  const dialog = page.locator('#delete-dialog');
  await dialog.waitFor();
  // The dialog names what it deletes: the snapshot chosen, not another one selected by the page.
  const title = await dialog.locator('#delete-dialog-title').textContent();
  check(title.includes(`“${name}”`), `the delete dialog is for ${name}: ${title}`);
  await dialog.locator(`input[name=mode][value=${mode}]`).check();
  await dialog.locator('button[type=submit]').click();
  await dialog.waitFor({ state: 'detached' });
}

async function noHorizontalOverflow(what) {
  const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  check(scroll <= client, `${what}: no horizontal overflow (scrollWidth ${scroll} > clientWidth ${client})`);
}

/** Presses a key until the focused element matches the selector (keyboard reachability). */
async function tabTo(selector, key = 'Tab', max = 60) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) {
      return;
    }
    await page.keyboard.press(key);
  }
  throw new Error(`check failed: ${selector} not reachable with ${key}`);
}

async function tree() {
  // Names by nesting: "a>b" means b is a child of a.
  return page.evaluate(() => {
    const walk = (ul, prefix) => [...ul.children].flatMap((li) => {
      const name = li.querySelector(':scope > .snap-row .snap-name')?.textContent;
      const sub = li.querySelector(':scope > ul');
      const here = name ? [prefix + name] : [];
      return [...here, ...(sub ? walk(sub, name ? `${prefix}${name}>` : prefix) : [])];
    });
    const root = document.querySelector('.snap-tree > ul');
    return root ? walk(root, '') : [];
  });
}

async function sameTree(expected, what) {
  const deadline = Date.now() + TIMEOUT;
  let got;
  while (Date.now() < deadline) {
    // Paths carry the nesting; siblings taken in the same second may come in either order.
    got = (await tree()).sort();
    if (JSON.stringify(got) === JSON.stringify([...expected].sort())) {
      return;
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`check failed: ${what}: tree ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
}

async function rpcAsRoot(method, params) {
  const r = await fetch(`${base}/jsonrpc`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
  }).then((x) => x.json());
  if (r.error) {
    throw new Error(`${method}: ${JSON.stringify(r.error)}`);
  }
  return r.result;
}

try {
  step = 'failed login';
  await page.goto(`${base}/console/`);
  await login('root', 'not-the-password');
  await page.locator('#login-error').waitFor({ state: 'visible' });
  check((await page.locator('#login-error').textContent()).includes('user name or password is wrong'),
    'the failed login says why in words');
  await shot('01-login-failed');
  ok('a failed login shows "The user name or password is wrong."');

  step = 'login';
  await login('root', rootPassword);
  await selectVm('Demo VM');
  check((await page.locator('.disk-list li').count()) === 2, 'the demo VM shows its two disks');
  check((await page.locator('.snap-tree').count()) === 0, 'no snapshots at first');
  await shot('02-demo-vm');
  ok('logged in as root; the demo VM is listed with its two disks');

  step = 'snapshot, disks only';
  await takeSnapshot('before-upgrade', { description: 'taken by the console test' });
  await sameTree(['before-upgrade'], 'after the first snapshot');
  check((await row('before-upgrade').locator('.snap-state').textContent()) === 'Halted', 'power state at snapshot');
  check((await row('before-upgrade').locator('.snap-time').textContent()).length > 0, 'snapshot time shown');
  check((await row('before-upgrade').locator('.snap-description').textContent()) === 'taken by the console test',
    'snapshot description shown');
  ok('a disk-only snapshot appears in the tree with its time, power state and the check mark');

  step = 'snapshot with memory';
  await page.click('button[data-key="power-VM.start"]');
  await page.locator('.detail-head .badge', { hasText: 'Running' }).waitFor();
  await takeSnapshot('with-memory', { memory: true });
  await sameTree(['before-upgrade', 'before-upgrade>with-memory'], 'checkpoint under the first snapshot');
  check((await row('with-memory').locator('.snap-state').textContent()) === 'Running + memory', 'checkpoint marked');
  check((await row('before-upgrade').locator('.current-mark').count()) === 0, 'check mark left the old snapshot');
  await shot('03-snapshot-with-memory');
  ok('a snapshot with memory of the running VM: child of the first, the check mark moved to it');

  step = 'revert with confirmation';
  await row('before-upgrade').locator('input[type=radio]').check();
  await page.click('button[data-key=snap-revert]');
  const revert = page.locator('#revert-dialog');
  await revert.waitFor();
  const said = await revert.textContent();
  check(said.includes('Lost') && said.includes('Demo disk 0') && said.includes('Demo disk 1'),
    `the confirmation says what is lost: ${said}`);
  check(said.includes('running state'), 'the confirmation says the running VM is stopped');
  await shot('04-revert-confirmation');
  await revert.locator('button[type=submit]').click();
  await waitCurrent('before-upgrade');
  await page.locator('.detail-head .badge', { hasText: 'Halted' }).waitFor();
  ok('revert asks first, saying what is lost; the check mark moves back and the VM is halted');

  step = 'keyboard only: snapshot and revert';
  await page.locator('#vm-title').focus();
  await tabTo('button[data-key=snap-take]');
  await page.keyboard.press('Enter');
  await page.locator('#snapshot-dialog').waitFor();
  check(await page.evaluate(() => document.activeElement?.name === 'name'), 'focus starts in the name field');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('kb-snap');
  await page.keyboard.press('Enter');
  await waitCurrent('kb-snap');
  check(await page.evaluate(() => document.activeElement?.dataset.key === 'snap-take'),
    'focus returns to the button that opened the dialog');
  // Into the tree, then arrow keys move the selection to the checkpoint.
  await tabTo('.snap-tree input[type=radio]');
  for (let i = 0; i < 5; i++) {
    if (await page.evaluate(() => document.activeElement?.closest('.snap-row')?.textContent.includes('with-memory'))) {
      break;
    }
    await page.keyboard.press('ArrowDown');
  }
  check(await page.evaluate(() => document.activeElement?.checked
    && document.activeElement.closest('.snap-row').textContent.includes('with-memory')), 'arrow keys select a snapshot');
  await tabTo('button[data-key=snap-revert]', 'Shift+Tab');
  await page.keyboard.press('Enter');
  await page.locator('#revert-dialog').waitFor();
  check(await page.evaluate(() => document.activeElement?.value === 'cancel'), 'a destructive dialog starts on Cancel');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await waitCurrent('with-memory');
  await page.locator('.detail-head .badge', { hasText: 'Suspended' }).waitFor();
  await shot('05-keyboard-revert');
  ok('keyboard only: snapshot by Enter in the dialog, revert by arrows and Tab; a checkpoint revert ends suspended');

  step = 'delete in each mode';
  await sameTree(['before-upgrade', 'before-upgrade>with-memory', 'before-upgrade>kb-snap'], 'before deleting');
  await deleteSnapshot('kb-snap', 'metadata-only');
  await sameTree(['before-upgrade', 'before-upgrade>with-memory'], 'metadata-only');
  ok('delete, metadata only: the snapshot is gone from the tree');
  await deleteSnapshot('before-upgrade', 'descendants-only');
  await sameTree(['before-upgrade'], 'descendants-only');
  ok('delete, descendants only: what was below it is gone, it stays');
  await page.click('button[data-key="power-VM.hard_shutdown"]');
  await page.locator('.detail-head .badge', { hasText: 'Halted' }).waitFor();
  await takeSnapshot('s-a');
  await takeSnapshot('s-b');
  // The VM's current snapshot was deleted with its parent's descendants: it moved up to the parent.
  await sameTree(['before-upgrade', 'before-upgrade>s-a', 'before-upgrade>s-a>s-b'], 'new branch');
  await deleteSnapshot('s-a', 'single');
  await sameTree(['before-upgrade', 'before-upgrade>s-b'], 'single');
  check(await currentName() === 's-b', 'the check mark stays on s-b');
  ok('delete, single: its child moves up to its parent');
  await takeSnapshot('s-c');
  await sameTree(['before-upgrade', 'before-upgrade>s-b', 'before-upgrade>s-b>s-c'], 'before with-descendants');
  await deleteSnapshot('s-b', 'with-descendants');
  await sameTree(['before-upgrade'], 'with-descendants');
  await waitCurrent('before-upgrade');
  ok('delete, with descendants: the branch is gone; the check mark moves up to what is left');
  await shot('06-after-deletes');

  step = 'storage page';
  await page.click('nav.tabs button[data-key=tab-storage]');
  await page.locator('.sr .vdi-row').first().waitFor();
  const kinds = await page.locator('.sr .kind').allTextContents();
  check(kinds.includes('base copy') && kinds.includes('snapshot') && kinds.includes('leaf'),
    `base copies, snapshots and leaves are drawn: ${kinds}`);
  const depths = await page.locator('.vdi-figures').allTextContents();
  check(depths.some((d) => /depth [2-9]/.test(d)), 'chain depth shown');
  check((await page.locator('.gc-status').first().textContent()).length > 0, 'GC state shown');
  await shot('07-storage');
  ok('storage: the SR with sizes and GC state; VHD trees with base copies, snapshots, leaves and chain depth');

  step = 'task progress';
  // Live movement, deterministically: a task whose progress this test sets (task.set_progress, as
  // a client's own task reports it) must show each value on the page before the next one is set.
  // A real operation's progress is written by the server (TasksProgressTest), but whether the page
  // catches it between 0 and 100% depends on how long the operation takes, so it is not asked here.
  const progressSession = await rpcAsRoot('session.login_with_password', ['root', rootPassword]);
  const ownTask = await rpcAsRoot('task.create', [progressSession, 'Backup of Demo VM', 'by a client']);
  await page.click('nav.tabs button[data-key=tab-tasks]');
  const ownRow = page.locator('tr.task', { hasText: 'Backup of Demo VM' });
  const shown = [];
  for (const value of [0.25, 0.5, 0.75]) {
    await rpcAsRoot('task.set_progress', [progressSession, ownTask, value]);
    const pct = Math.round(100 * value);
    await ownRow.locator(`progress[value="${pct}"]`).waitFor({ timeout: 30_000 });
    shown.push(Number(await ownRow.locator('progress').getAttribute('value')));
  }
  await rpcAsRoot('task.set_progress', [progressSession, ownTask, 1]);
  await rpcAsRoot('task.set_status', [progressSession, ownTask, 'success']);
  await page.locator('tr.task-success', { hasText: 'Backup of Demo VM' }).locator('progress[value="100"]').waitFor();
  check(JSON.stringify(shown) === '[25,50,75]', `the progress bar showed each value live: ${shown}`);
  const refused = await fetch(`${base}/jsonrpc`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'task.set_progress', params: [progressSession, ownTask, 1.5], id: 1 }),
  }).then((x) => x.json());
  check(JSON.stringify(refused.error ?? null).includes('INVALID_VALUE'), `progress past 1 is refused: ${JSON.stringify(refused.error)}`);
  await rpcAsRoot('task.destroy', [progressSession, ownTask]);
  await rpcAsRoot('session.logout', [progressSession]);
  // A copy started from the page: its task is listed, ends at 100% and never goes back.
  await page.click('nav.tabs button[data-key=tab-vms]');
  await selectVm('Demo VM');
  await page.click('button[data-key=vm-copy]');
  const copy = page.locator('#copy-dialog');
  await copy.waitFor();
  await copy.locator('input[name=name]').fill('Demo VM copy');
  await page.evaluate(() => {
    window.progressSeen = [];
    window.progressTimer = setInterval(() => {
      for (const tr of document.querySelectorAll('tr.task')) {
        if (tr.textContent.includes('VM.copy')) {
          window.progressSeen.push(Number(tr.querySelector('progress').value));
        }
      }
    }, 10);
  });
  await copy.locator('button[type=submit]').click();
  await page.click('nav.tabs button[data-key=tab-tasks]');
  await page.locator('tr.task-success', { hasText: 'VM.copy' }).waitFor({ timeout: 60_000 });
  await page.locator('tr.task-success', { hasText: 'VM.copy' }).locator('progress[value="100"]').waitFor();
  await page.waitForFunction(() => window.progressSeen.at(-1) === 100); // sampled once finished
  const seen = await page.evaluate(() => {
    clearInterval(window.progressTimer);
    return window.progressSeen;
  });
  check(seen.length > 0 && seen[seen.length - 1] === 100, `the copy's progress bar ends at 100% (saw ${[...new Set(seen)]})`);
  check(seen.every((v, i) => i === 0 || v >= seen[i - 1]), 'the progress bar never goes back');
  await shot('08-tasks');
  await page.click('nav.tabs button[data-key=tab-vms]');
  await page.locator('.vm-item', { hasText: 'Demo VM copy' }).waitFor();
  ok(`a task's progress bar moved live (25, 50, 75 then 100%); a copy's task ends at 100% and the copy is listed`);

  step = 'a failing task, in words';
  const session = await rpcAsRoot('session.login_with_password', ['root', rootPassword]);
  const [demo] = await rpcAsRoot('VM.get_by_name_label', [session, 'Demo VM']);
  await selectVm('Demo VM');
  await page.click('button[data-key=vm-copy]');
  await copy.waitFor();
  // Someone else starts the VM while the dialog is open: the copy then fails on the server.
  await rpcAsRoot('VM.start', [session, demo, false, false]);
  await copy.locator('button[type=submit]').click();
  const notice = page.locator('.notice-error', { hasText: 'Copy Demo VM' });
  await notice.waitFor();
  check((await notice.textContent()).includes('The VM is running; this needs it halted.'),
    `the failure is said in words: ${await notice.textContent()}`);
  await page.click('nav.tabs button[data-key=tab-tasks]');
  const failedRow = page.locator('tr.task-failure', { hasText: 'VM.copy' });
  await failedRow.waitFor();
  check((await failedRow.locator('.task-error').textContent()).includes('this needs it halted'), 'the task row says why');
  await shot('08b-task-failed');
  await rpcAsRoot('VM.hard_shutdown', [session, demo]);
  ok('a task that fails says why in words, in a notice and on the Tasks page');
  await page.click('button[data-key=tasks-clear]');
  await page.locator('tr.task-success, tr.task-failure').first().waitFor({ state: 'detached' });
  ok('finished tasks can be cleared');

  step = 'snapshot unavailable';
  const sr = (await rpcAsRoot('pool.get_all_records', [session]));
  const defaultSr = Object.values(sr)[0].default_SR;
  const vm = await rpcAsRoot('VM.create', [session, { name_label: 'Shared-disk VM', memory_static_max: 268435456 }]);
  const vdi = await rpcAsRoot('VDI.create', [session, { SR: defaultSr, virtual_size: 67108864, name_label: 'cluster disk', sharable: true, type: 'user' }]);
  await rpcAsRoot('VBD.create', [session, { VM: vm, VDI: vdi, userdevice: '0', type: 'Disk', mode: 'RW', bootable: false }]);
  await selectVm('Shared-disk VM');
  const take = page.locator('button[data-key=snap-take]');
  await page.locator('#snapshot-blocked').waitFor();
  check(await take.isDisabled(), 'the snapshot button is disabled');
  check((await take.getAttribute('title')).includes('sharable'), 'its tooltip says why');
  await shot('09-snapshot-unavailable');
  ok('a VM whose disk can\'t be snapshotted: the button is disabled with a tooltip saying why');

  step = 'wide and narrow windows';
  for (const [w, hgt] of [[1280, 800], [390, 844]]) {
    await page.setViewportSize({ width: w, height: hgt });
    for (const tab of ['vms', 'storage', 'tasks']) {
      await page.click(`nav.tabs button[data-key=tab-${tab}]`);
      await page.waitForTimeout(150);
      await noHorizontalOverflow(`${tab} at ${w}x${hgt}`);
      await shot(`10-${tab}-${w}x${hgt}`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.click('nav.tabs button[data-key=tab-vms]');
  ok('every page fits 1280x800 and 390x844 without horizontal scrolling');

  step = 'read-only role';
  await page.click('header.top button', { hasText: 'Log out' });
  await page.locator('#user').waitFor();
  await login(roUser, roPassword);
  await page.locator('#role', { hasText: 'read-only' }).waitFor();
  await selectVm('Demo VM');
  await page.locator('.snap-tree').waitFor();
  check((await tree()).includes('before-upgrade'), 'the read-only user sees the snapshot tree');
  for (const key of ['power-VM.start', 'vm-copy', 'snap-take', 'snap-revert', 'snap-delete']) {
    const b = page.locator(`button[data-key="${key}"]`);
    check(await b.isDisabled(), `${key} disabled for the read-only role`);
    check((await b.getAttribute('title')).includes(READ_ONLY_TIP), `${key} says why`);
  }
  const denied = await page.evaluate(async (base) => {
    const ref = sessionStorage.getItem('xsm-session');
    const vms = await fetch(`${base}/jsonrpc`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'VM.get_all_records', params: [ref], id: 1 }) }).then((r) => r.json());
    const snap = Object.values(vms.result).find((v) => v.is_a_snapshot);
    const del = await fetch(`${base}/api/snapshots/${snap.uuid}?mode=single`, { method: 'DELETE', headers: { 'X-XenAPI-Session': ref } });
    return del.status;
  }, base);
  check(denied === 403, `the server refuses the read-only user's delete (HTTP ${denied})`);
  await page.click('nav.tabs button[data-key=tab-tasks]');
  const clear = page.locator('button[data-key=tasks-clear]');
  check(await clear.isDisabled() && (await clear.getAttribute('title')).includes(READ_ONLY_TIP),
    'clearing tasks disabled for the read-only role');
  await page.click('nav.tabs button[data-key=tab-storage]');
  await page.locator('.sr .vdi-row').first().waitFor();
  await shot('11-read-only');
  ok('read-only: sees VMs, snapshots and storage; every change is disabled with a tooltip, and the server says 403');

  step = 'vm-operator role';
  // A change drawn just before logging out leaves a snapshot-tree refresh scheduled; it must not
  // run with the ended session (it once did: "Cannot read properties of null").
  await selectVm('Demo VM');
  await rpcAsRoot('VM.set_name_description', [session, demo, 'changed just before logging out']);
  await page.locator('.vm-detail p.muted', { hasText: 'changed just before logging out' }).waitFor();
  await page.click('header.top button', { hasText: 'Log out' });
  await page.locator('#user').waitFor();
  await login(opUser, opPassword);
  await page.locator('#role', { hasText: 'vm-operator' }).waitFor();
  await selectVm('Demo VM');
  await page.locator('.snap-tree').waitFor();
  for (const key of ['vm-copy', 'snap-take', 'snap-revert', 'snap-delete']) {
    const b = page.locator(`button[data-key="${key}"]`);
    check(await b.isDisabled(), `${key} disabled for the vm-operator role`);
    check((await b.getAttribute('title')).includes('Your role (vm-operator) may not do this'), `${key} says why`);
  }
  const power = page.locator('.toolbar[aria-label="Power"] button[data-key^="power-"]:not([disabled])');
  check(await power.count() > 0, 'a vm-operator has the power actions that apply');
  ok('vm-operator: power actions allowed; copy, snapshot, revert and delete disabled, naming the permission');

  step = 'session ended elsewhere';
  const mine = await page.evaluate(() => sessionStorage.getItem('xsm-session'));
  await rpcAsRoot('session.logout', [mine]);
  await rpcAsRoot('VM.set_name_description', [session, demo, 'an event for the console']);
  await page.locator('#login-error', { hasText: 'Your session has ended' }).waitFor();
  check(await page.evaluate(() => sessionStorage.getItem('xsm-session')) === null, 'the dead session is forgotten');
  ok('a session that ends elsewhere brings the login back, saying so');

  check(pageErrors.length === 0, `no errors in the page: ${pageErrors.join(' | ')}`);
  ok('no script errors in the page');
  console.log('console_test: all checks passed');
} catch (e) {
  console.log(`FAILED at "${step}": ${e.message}`);
  await shot('failure').catch(() => undefined);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
