// Drives the admin console's Console card in Debian's chromium (headless, through playwright-core)
// against a running xsm server whose VM `vmName` runs on a real QEMU (GuestConsoleBrowserTest starts it):
// the screen through noVNC over the /console WebSocket, checked non-blank on noVNC's canvas and saved as
// a screenshot; the serial console's text; and a read-only user's disabled button. Prints one "ok" line
// per check; exits 1 at the first failure, naming it.
//
// node vm_screen_test.mjs <base-url> <root-password> <vm-name> <serial-text> <ro-user> <ro-password> <screenshot-dir>
//   <running-vm-without-console>

import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, rootPassword, vmName, serialText, roUser, roPassword, shots, screenless] = process.argv.slice(2);
if (!screenless) {
  console.error('usage: node vm_screen_test.mjs <base-url> <root-password> <vm-name> <serial-text> <ro-user> <ro-password>'
    + ' <screenshot-dir> <running-vm-without-console>');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 30_000;

let step = 'start';
function ok(what) {
  console.log(`ok ${what}`);
}
function check(condition, what) {
  if (!condition) {
    throw new Error(`check failed: ${what}`);
  }
}

const profile = mkdtempSync(join(tmpdir(), 'xsm-screen-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
context.setDefaultTimeout(TIMEOUT);
const page = context.pages()[0] || await context.newPage();
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => {
  if (m.type() === 'error') {
    pageErrors.push(m.text());
  }
});

async function login(user, password) {
  await page.goto(`${base}/console/`);
  await page.fill('#user', user);
  await page.fill('#password', password);
  await page.click('form.login button[type=submit]');
  await page.locator('nav.tabs').waitFor();
}

async function selectVm(name) {
  await page.locator('.vm-item').filter({ has: page.locator('.vm-name', { hasText: new RegExp(`^${name}$`) }) }).click();
  await page.locator('#vm-title', { hasText: name }).waitFor();
}

/** How many of the canvas's sampled pixels differ from its first: 0 for a blank screen. */
function distinctPixels() {
  return page.evaluate(() => {
    const canvas = document.querySelector('#vm-screen canvas');
    if (!canvas || canvas.width === 0 || canvas.height === 0) {
      return -1;
    }
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let differing = 0;
    for (let i = 0; i < data.length; i += 4 * 7) {
      if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) {
        differing++;
      }
    }
    return differing;
  });
}

try {
  step = 'login as root';
  await login('root', rootPassword);
  await selectVm(vmName);
  ok('the running VM is shown');

  step = 'screen';
  await page.click('button[data-key=console-screen]');
  await page.locator('.screen-status', { hasText: 'Screen connected.' }).waitFor();
  await page.locator('#vm-screen canvas').waitFor();
  // The firmware draws its text a moment after QEMU starts: wait for pixels that differ.
  await page.waitForFunction(() => {
    const canvas = document.querySelector('#vm-screen canvas');
    if (!canvas || canvas.width < 10) {
      return false;
    }
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 4; i < data.length; i += 4 * 7) {
      if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) {
        return true;
      }
    }
    return false;
  }, null, { timeout: 60_000 });
  const differing = await distinctPixels();
  check(differing > 0, `the screen is not blank (${differing} sampled pixels differ)`);
  await page.screenshot({ path: join(shots, 'vm-screen.png'), fullPage: true });
  await page.locator('#vm-screen').screenshot({ path: join(shots, 'vm-screen-canvas.png') });
  ok(`noVNC shows the VM's screen (${differing} sampled pixels differ from the first)`);

  step = 'screen survives redraws';
  await page.evaluate(() => document.querySelector('#vm-screen canvas').setAttribute('data-marker', 'same'));
  await page.click('nav.tabs button[data-key=tab-tasks]');
  await page.click('nav.tabs button[data-key=tab-vms]');
  check(await page.locator('#vm-screen canvas[data-marker=same]').count() === 1, 'the same canvas after a page change');
  ok('the screen stays connected across redraws');

  step = 'serial';
  await page.click('button[data-key=console-serial]');
  await page.locator('#serial-text', { hasText: serialText }).waitFor();
  await page.fill('.serial-send input', 'info version');
  await page.click('.serial-send button');
  // The banner already holds a version number: wait for the typed line and the answer after it.
  await page.waitForFunction(() => /\(qemu\) info version\n\d+\.\d+\.\d+/.test(document.querySelector('#serial-text').textContent));
  // The monitor draws its line again after each key (CR, escapes); shown as a terminal would, the
  // command appears once.
  const serial = await page.locator('#serial-text').textContent();
  check(/\(qemu\) info version\n/.test(serial), `the typed line reads as typed: ${JSON.stringify(serial.slice(-200))}`);
  await page.screenshot({ path: join(shots, 'vm-serial.png'), fullPage: true });
  ok('the serial console shows text and takes a line');

  step = 'close';
  await page.click('button[data-key=console-screen]');
  check(await page.locator('#vm-screen').count() === 0, 'the screen closes');
  ok('the screen closes');
  check(pageErrors.length === 0, `no page errors: ${pageErrors.join(' | ')}`);
  ok('no errors on the page (CSP included)');

  step = 'a VM without a screen';
  await selectVm(screenless);
  await page.click('button[data-key=console-screen]');
  await page.locator('.screen-status', { hasText: 'could not be opened' }).waitFor();
  check(await page.locator('button[data-key=console-serial]').count() === 0, 'no serial button without a serial console');
  ok('a running VM whose domain has no screen says so');

  step = 'read-only';
  await page.click('header.top button');
  await login(roUser, roPassword);
  await selectVm(vmName);
  const button = page.locator('button[data-key=console-screen]');
  check(await button.isDisabled(), 'the read-only role cannot open the screen');
  check(/read-only/.test(await button.getAttribute('title')), 'the button says why');
  ok('a read-only user sees the Console button disabled, saying why');

  console.log('vm_screen_test: all checks passed');
} catch (e) {
  console.log(`FAILED at ${step}: ${e.message}`);
  await page.screenshot({ path: join(shots, 'vm-screen-failure.png'), fullPage: true }).catch(() => undefined);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
