// A running VM's consoles on the VMs page: its screen through noVNC and its serial console as text,
// both over the server's /console WebSocket (the bytes of the console, one binary message per chunk).
// noVNC's modules are copied into /console/novnc/ by the build (src/main/novnc/copy-novnc.sh); they
// are loaded only when a screen is opened, so the rest of the console works without them.

import { h } from './dom.js';

const NOVNC = '../novnc/core/rfb.js';
const SERIAL_KEEP = 64 * 1024;
/**
 * Serial output as a terminal shows it, for the line being written: the cursor moves with CR,
 * backspace and CSI C/D, characters overwrite, CSI K erases to the end of the line (what shells and
 * line editors use to redraw); other escape sequences and control characters are dropped.
 */
export class TerminalText {
  constructor(keep) {
    this.keep = keep;
    this.done = '';
    this.line = [];
    this.col = 0;
    this.escape = null; // the escape sequence being read
  }

  feed(chunk) {
    for (const ch of chunk) {
      if (this.escape !== null) {
        this.escape += ch;
        this.endOfEscape();
      } else if (ch === '\x1b') {
        this.escape = '';
      } else if (ch === '\n') {
        this.done = (this.done + this.line.join('') + '\n').slice(-this.keep);
        this.line = [];
        this.col = 0;
      } else if (ch === '\r') {
        this.col = 0;
      } else if (ch === '\b') {
        this.col = Math.max(0, this.col - 1);
      } else if (ch === '\t' || ch >= ' ') {
        if (ch !== '\x7f') {
          this.line[this.col++] = ch;
        }
      }
    }
  }

  endOfEscape() {
    const e = this.escape;
    if (e.startsWith('[')) {
      if (!/[@-~]$/.test(e.slice(1))) {
        return; // parameters still coming
      }
      const n = Math.max(1, parseInt(e.slice(1), 10) || 1);
      const final = e[e.length - 1];
      if (final === 'D') {
        this.col = Math.max(0, this.col - n);
      } else if (final === 'C') {
        this.col += n;
      } else if (final === 'K') {
        this.line.length = Math.min(this.line.length, this.col);
      }
    } else if (e.startsWith(']')) {
      if (!e.endsWith('\x07') && !e.endsWith('\x1b\\')) {
        return; // OSC: until BEL or ST
      }
    }
    this.escape = null;
  }

  text() {
    return this.done + Array.from(this.line, (c) => c ?? ' ').join('');
  }
}

/** The WebSocket address of a console record: same origin, xapi's query. */
export function consoleUrl(consoleRef, sessionRef) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/console?ref=${encodeURIComponent(consoleRef)}&session_id=${encodeURIComponent(sessionRef)}`;
}

/** The VM's screen: a noVNC RFB client in a box that survives the page's redraws. */
export class VmScreen {
  constructor(consoleRef, sessionRef) {
    this.consoleRef = consoleRef;
    this.sessionRef = sessionRef;
    this.status = h('p', { class: 'muted screen-status', role: 'status' }, 'Connecting…');
    this.box = h('div', { class: 'vm-screen', id: 'vm-screen', 'aria-label': 'VM screen' });
    this.el = h('div', { class: 'screen-wrap' }, this.status, this.box);
    this.rfb = null;
    this.closed = false;
  }

  async open() {
    let RFB;
    try {
      ({ default: RFB } = await import(NOVNC));
    } catch (e) {
      this.say('noVNC is not installed on this server (the build needs npm), so the screen cannot be shown.');
      return;
    }
    if (this.closed) {
      return;
    }
    this.rfb = new RFB(this.box, consoleUrl(this.consoleRef, this.sessionRef), { shared: true });
    this.rfb.scaleViewport = true;
    this.rfb.background = '#111';
    this.rfb.addEventListener('connect', () => {
      this.connected = true;
      this.say('Screen connected.');
    });
    this.rfb.addEventListener('desktopname', (e) => this.box.setAttribute('aria-label', `Screen of ${e.detail.name}`));
    this.rfb.addEventListener('disconnect', (e) => {
      this.rfb = null;
      this.say(!this.connected
        ? 'The screen could not be opened: the VM has no graphical console on this host, or it stopped.'
        : e.detail.clean ? 'Screen disconnected.' : 'The connection to the screen was lost.');
    });
  }

  say(text) {
    this.status.textContent = text;
  }

  close() {
    this.closed = true;
    this.rfb?.disconnect();
    this.rfb = null;
  }
}

/** The VM's serial console as text (escape sequences dropped), and a line to send to it. */
export class SerialView {
  constructor(consoleRef, sessionRef) {
    this.url = consoleUrl(consoleRef, sessionRef);
    this.terminal = new TerminalText(SERIAL_KEEP);
    this.decoder = new TextDecoder();
    this.out = h('pre', { class: 'serial-text', id: 'serial-text', tabindex: '0', 'aria-label': 'Serial console output' });
    this.status = h('p', { class: 'muted', role: 'status' }, 'Connecting…');
    const line = h('input', { name: 'line', autocomplete: 'off', 'aria-label': 'Line to send' });
    const form = h('form', { class: 'serial-send' }, line, h('button', { type: 'submit' }, 'Send'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.send(`${line.value}\n`);
      line.value = '';
    });
    this.el = h('div', { class: 'serial-wrap' }, this.status, this.out, form);
  }

  open() {
    this.ws = new WebSocket(this.url);
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => { this.status.textContent = 'Serial console connected.'; };
    this.ws.onmessage = (m) => this.show(this.decoder.decode(new Uint8Array(m.data), { stream: true }));
    this.ws.onclose = () => { this.status.textContent = 'Serial console disconnected.'; };
  }

  show(chunk) {
    this.terminal.feed(chunk);
    const atEnd = this.out.scrollTop + this.out.clientHeight >= this.out.scrollHeight - 4;
    this.out.textContent = this.terminal.text();
    if (atEnd) {
      this.out.scrollTop = this.out.scrollHeight;
    }
  }

  send(text) {
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(new TextEncoder().encode(text));
    }
  }

  close() {
    this.ws?.close();
  }
}

/**
 * The Console card of a running VM: buttons opening its screen and its serial console; what is open
 * stays connected across redraws until closed, the VM stops, or another VM is selected.
 */
export class ConsoleCard {
  constructor(app) {
    this.app = app;
    this.vmRef = null;
    this.screen = null;
    this.serial = null;
  }

  /** Closes whatever is open (another VM, the VM stopped, logout). */
  closeAll() {
    this.screen?.close();
    this.serial?.close();
    this.screen = null;
    this.serial = null;
  }

  render(vmRef, vm, consoles, button) {
    if (vmRef !== this.vmRef || vm.power_state !== 'Running') {
      this.closeAll();
      this.vmRef = vmRef;
    }
    if (vm.power_state !== 'Running') {
      return null;
    }
    const rfb = consoles.find(([, c]) => c.protocol === 'rfb')?.[0];
    const vt100 = consoles.find(([, c]) => c.protocol === 'vt100')?.[0];
    const permission = 'http/connect_console_ws';
    const session = this.app.session;
    const toggle = (kind, ref, make) => () => {
      if (this[kind]) {
        this[kind].close();
        this[kind] = null;
      } else {
        this[kind] = make(ref, session.ref);
        this[kind].open();
      }
      this.app.vms.render();
    };
    const bar = h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Console' },
      button(this.screen ? 'Close screen' : 'Show screen', 'console-screen',
        toggle('screen', rfb, (r, s) => new VmScreen(r, s)), rfb ? null : 'The VM has no graphical console.', {}, permission),
      vt100 ? button(this.serial ? 'Close serial console' : 'Show serial console', 'console-serial',
        toggle('serial', vt100, (r, s) => new SerialView(r, s)), null, {}, permission) : null);
    const card = h('section', { class: 'card', 'aria-labelledby': 'console-title' },
      h('h3', { id: 'console-title' }, 'Console'), bar);
    // The same elements each redraw: moving them keeps noVNC's canvas and the serial text.
    if (this.screen) {
      card.append(this.screen.el);
    }
    if (this.serial) {
      card.append(this.serial.el);
    }
    return card;
  }
}

