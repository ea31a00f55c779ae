// Modal dialogs on the native <dialog> element: it traps focus, closes on Escape and gives focus
// back to what opened it.

import { h } from './dom.js';

/**
 * Shows a modal form and resolves with its FormData when confirmed, or null when cancelled.
 *
 * @param {object} o title, body (nodes), confirm (button label), danger (red confirm button),
 *     id (for tests and styling)
 */
export function ask({ title, body, confirm, danger = false, id }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const form = h('form', { method: 'dialog', class: 'dialog-form' },
      h('h2', { id: `${id}-title` }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', value: 'cancel', onclick: () => close(null) }, 'Cancel'),
        h('button', { type: 'submit', value: 'ok', class: danger ? 'danger' : 'primary' }, confirm)));
    const dialog = h('dialog', { id, 'aria-labelledby': `${id}-title` }, form);
    let done = false;
    function close(result) {
      if (done) {
        return;
      }
      done = true;
      dialog.close();
      dialog.remove();
      // A redraw while the dialog was open may have replaced the opener by its twin.
      const key = opener?.dataset?.key;
      const back = opener?.isConnected
        ? opener
        : key && document.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (back) {
        back.focus();
      } else {
        document.querySelector('main h1, main h2')?.focus();
      }
      resolve(result);
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (form.reportValidity()) {
        close(new FormData(form));
      }
    });
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    // A destructive dialog starts on Cancel, so a stray Enter loses nothing.
    const first = danger ? form.querySelector('input:checked, button[value=cancel]')
      : form.querySelector('[autofocus], input:checked, input, select, textarea, button[type=submit]');
    first?.focus();
  });
}

/** A labelled form control: field('Name', h('input', {...})). */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) {
    control.setAttribute('aria-describedby', hintId);
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

/** A group of radio buttons: choices are [value, label, description, disabled]. */
export function choice(legend, name, choices, checked) {
  return h('fieldset', { class: 'choices' },
    h('legend', {}, legend),
    choices.map(([value, label, description, disabled]) => {
      const id = `${name}-${value}`;
      return h('div', { class: 'choice' },
        h('input', { type: 'radio', name, value, id, checked: value === checked, disabled: !!disabled,
          'aria-describedby': description ? `${id}-d` : undefined }),
        h('label', { for: id }, label),
        description ? h('p', { class: 'hint', id: `${id}-d` }, description) : null);
    }));
}
