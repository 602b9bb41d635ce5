// Small DOM and formatting helpers shared by the views.

/** h('button', {class, testid, text, onclick, ...attrs}, ...children) */
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  if (props) {
    for (const k in props) {
      const v = props[k];
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'testid') el.dataset.testid = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
  }
  for (const kid of kids.flat()) {
    if (kid != null && kid !== false) el.append(kid);
  }
  return el;
}

let uid = 0;
/** A labelled form field; returns the wrapper. */
export function field(label, input, hint) {
  input.id ||= `f${++uid}`;
  const wrap = h('div', { class: input.type === 'checkbox' ? 'field check' : 'field' });
  const lab = h('label', { for: input.id, text: label });
  if (input.type === 'checkbox') wrap.append(input, lab);
  else wrap.append(lab, input);
  if (hint) {
    const hid = `${input.id}-hint`;
    input.setAttribute('aria-describedby', hid);
    wrap.append(h('p', { class: 'hint', id: hid, text: hint }));
  }
  return wrap;
}

/** Never show raw JSON: the backend's sentence, or a plain fallback. */
export function errorText(err) {
  if (typeof err === 'string') return err;
  if (err && typeof err.message === 'string' && err.message) return err.message;
  return 'Something went wrong. Please try again.';
}

const pad = (n) => String(n).padStart(2, '0');

/** "just now", "3 min ago", "2 h 05 min ago", "on 12 Mar" */
export function ago(at, now = Date.now()) {
  const m = Math.floor((now - at) / 60000);
  if (m < 1) return 'just now';
  if (m < 60) return `${m} min ago`;
  if (m < 24 * 60) return `${Math.floor(m / 60)} h ${pad(m % 60)} min ago`;
  return `on ${new Date(at).toLocaleDateString(undefined, { day: 'numeric', month: 'short' })}`;
}

/** mm:ss until `at`, never negative. */
export function countdown(at, now = Date.now()) {
  const s = Math.max(0, Math.ceil((at - now) / 1000));
  return `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
}

export const clock = (at) => {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

export const num = (n) => n.toLocaleString('en-US');

export function hostOf(url) {
  try { return new URL(url).host || url; } catch { return url; }
}

export const instanceName = (i) => (i ? i.label || hostOf(i.startUrl) : '');

/** Live time texts: elements with data-at + data-fmt are refreshed by the one timer. */
export function live(el, at, fmt) {
  el.dataset.at = at;
  el.dataset.fmt = fmt;
  el.textContent = FORMATS[fmt](at);
  return el;
}
const FORMATS = {
  ago: (at, now) => `Updated ${ago(at, now)}`,
  countdown: (at, now) => countdown(at, now),
  // A time left, never read as a time of day: "14:38 left".
  left: (at, now) => `${countdown(at, now)} left`,
};
export function tickLive(root = document, now = Date.now()) {
  for (const el of root.querySelectorAll('[data-fmt]')) {
    const t = FORMATS[el.dataset.fmt](Number(el.dataset.at), now);
    if (el.textContent !== t) el.textContent = t;
  }
}

/** The moment after `now` at which a live text of format `fmt` about `at` next changes,
 * or null if it no longer does (a countdown at zero, a day shown as a date). */
function nextChange(fmt, at, now) {
  if (fmt === 'ago') {
    const m = Math.max(0, Math.floor((now - at) / 60000));
    return m < 24 * 60 ? at + (m + 1) * 60000 : null;
  }
  const s = Math.ceil((at - now) / 1000);
  return s > 0 ? at - (s - 1) * 1000 : null;
}

/** The first moment after `now` at which a live text in `root` changes, or null when none
 * will: then nothing needs a timer. */
export function nextLiveChange(root = document, now = Date.now()) {
  let next = null;
  for (const el of root.querySelectorAll('[data-fmt]')) {
    const t = nextChange(el.dataset.fmt, Number(el.dataset.at), now);
    if (t != null && (next == null || t < next)) next = t;
  }
  return next;
}

/** Escape closes the most recently opened form/dialog. push() returns a remover. */
const escStack = [];
export function onEscape(close) {
  const entry = { close };
  escStack.push(entry);
  return () => { const i = escStack.indexOf(entry); if (i >= 0) escStack.splice(i, 1); };
}
export function handleEscape() {
  const top = escStack.pop();
  if (top) { top.close(); return true; }
  return false;
}

/**
 * The one confirmation of removing a favourite, wherever it is offered: "Remove NAME and
 * its profile?", then Remove (calls `onRemove`) or Keep (calls `onKeep`). Escape keeps it
 * too: the caller registers `onKeep` with `onEscape` while the question is on screen.
 * `focusKeep(root)` puts the focus on Keep, the safe answer.
 */
export function removalConfirm(profile, { onRemove, onKeep, extra }) {
  return h('div', { class: 'actions confirm', role: 'group', 'aria-label': 'Confirm removal', testid: 'remove-favourite-ask' },
    h('span', { class: 'small', text: `Remove ${profile} and its profile?` }),
    extra,
    h('button', { type: 'button', class: 'danger small', testid: 'remove-favourite-confirm', text: 'Remove', onclick: onRemove }),
    h('button', { type: 'button', class: 'small', testid: 'remove-favourite-cancel', text: 'Keep', onclick: onKeep }));
}
export const focusKeep = (root) => root?.querySelector('[data-testid=remove-favourite-cancel]')?.focus();

/** Re-render `root` with `fn`, then put focus back on the equivalent control. */
export function keepFocus(root, fn) {
  const a = document.activeElement;
  const had = a && a !== document.body && root.contains(a) && a.dataset.testid;
  const key = had ? a.closest('[data-key]')?.dataset.key : null;
  fn();
  if (had && !root.contains(a)) {
    const sel = `[data-testid="${a.dataset.testid}"]`;
    const scope = key != null ? root.querySelector(`[data-key="${CSS.escape(key)}"]`) : root;
    (scope?.querySelector(sel) || scope)?.focus?.();
  }
}

/**
 * Run a form action: disables the submit button while pending; validation-like errors
 * (invalidInput, conflict) go to the form's inline message, others to `fallback`.
 */
export async function submitting(form, action, fallback) {
  const btn = form.querySelector('[type=submit]');
  const msg = form.querySelector('.form-error');
  msg.hidden = true;
  if (btn) btn.disabled = true;
  try {
    return await action();
  } catch (e) {
    if (e && (e.code === 'invalidInput' || e.code === 'conflict')) {
      msg.textContent = errorText(e);
      msg.hidden = false;
    } else fallback(e);
    throw e;
  } finally {
    if (btn) btn.disabled = false;
  }
}

/** Enter in a field with suggestions (a datalist) takes the suggestion, if one is
 * highlighted, and submits the form: one Enter, not two. */
export function submitOnEnter(input) {
  input.addEventListener('keydown', (ev) => {
    const form = input.form;
    if (ev.key !== 'Enter' || ev.isComposing || !form) return;
    // The browser's own handling of the key comes first: it fills in the suggestion, or
    // submits the form itself; only when it did not is the form submitted here.
    let sent = false;
    const seen = () => { sent = true; };
    form.addEventListener('submit', seen, { capture: true });
    setTimeout(() => {
      form.removeEventListener('submit', seen, { capture: true });
      if (!sent && form.isConnected) form.requestSubmit();
    }, 0);
  });
  return input;
}

export const formError = () =>
  h('p', { class: 'form-error', role: 'alert', testid: 'form-error', hidden: true });

/** The region an access portal's address names (`https://ssoins-….portal.eu-west-1.app.aws`,
 * with any path, view or parameters); `…awsapps.com` addresses name none. The core's rule
 * (`region_of_portal` in src/instance.rs), read here at every keystroke; the cases of
 * tests/fixtures/rules.json hold the two together. */
export function regionOfPortal(address) {
  let host;
  try {
    // Trimmed as the core trims (Unicode white space), then read as a URL.
    host = new URL(String(address).replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '')).hostname;
  } catch { return null; }
  const region = host.match(/^.+\.portal\.([a-z0-9-]+)\.app\.aws$/)?.[1];
  // Shaped as the core wants a region: two to four parts of letters, then 1 to 20.
  const parts = region?.split('-') ?? [];
  const number = parts.length >= 3 && parts.length <= 5 && /^\d+$/.test(parts[parts.length - 1]) ? Number(parts[parts.length - 1]) : 0;
  return number >= 1 && number <= 20 && parts.slice(0, -1).every((p) => /^[a-z]+$/.test(p)) ? region : null;
}

/** Access portal form (its URL, region, label) used by the welcome and settings views. */
export function instanceForm({ onSubmit, onCancel, submitLabel }) {
  const url = h('input', { type: 'url', testid: 'instance-start-url', required: true, autocomplete: 'off', placeholder: 'https://my-company.awsapps.com/start', spellcheck: 'false' });
  const region = submitOnEnter(h('input', { type: 'text', testid: 'instance-region', required: true, list: 'aws-regions', autocomplete: 'off', placeholder: 'us-east-1', spellcheck: 'false' }));
  const label = h('input', { type: 'text', testid: 'instance-label', autocomplete: 'off', placeholder: 'e.g. Work' });
  const regionField = field('Region', region, 'Where IAM Identity Center runs: your administrator knows it.');
  const regionHint = regionField.querySelector('.hint');
  const hintText = regionHint.textContent;
  // The region, when the address names it, is filled in (and said so); never over one
  // typed. An address that names none any more takes back the region it filled in.
  let filled = false;
  url.addEventListener('input', () => {
    const found = regionOfPortal(url.value);
    if (found && (!region.value || filled)) {
      region.value = found;
      filled = true;
      regionHint.textContent = 'Found in the address.';
    } else if (!found && filled) {
      region.value = '';
      filled = false;
      regionHint.textContent = hintText;
    }
  });
  region.addEventListener('input', () => { filled = false; regionHint.textContent = hintText; });
  const form = h('form', { class: 'card form', testid: 'instance-form', novalidate: true },
    field('Access portal URL', url, 'The address where you sign in to AWS: paste it whole, from the browser\'s address bar if you like.'),
    h('div', { class: 'row2' },
      regionField,
      field('Label (optional)', label)),
    formError(),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', testid: 'instance-save', text: submitLabel || 'Save' }),
      onCancel && h('button', { type: 'button', testid: 'instance-cancel', text: 'Cancel', onclick: onCancel })));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    onSubmit(form, { startUrl: url.value.trim(), region: region.value.trim(), label: label.value.trim() || null });
  });
  return form;
}

/** The parts of a role ARN (`arn:aws:iam::210987654321:role/path/Deploy`) a person
 * recognises: the role's name (the last part of its path) and its account. */
export function roleOfArn(arn) {
  const parts = String(arn).split(':');
  const resource = parts.slice(5).join(':');
  return { name: resource.split('/').pop() || resource || arn, accountId: parts[4] || '' };
}

/** The longest and shortest sessions, in minutes, AWS gives a role assumed with an SSO
 * role's credentials. */
const SESSION_MINUTES = [15, 60];

/**
 * The fields of a role to assume with an SSO role's credentials (STS AssumeRole, "role
 * chaining"): its ARN, external ID, role session name and session length; `current` (a
 * favourite's `assumeRole`) fills them in. Used wherever a favourite's role is chosen, so
 * both places ask alike. Returns `{node, first, read}`: `read()` gives the `assumeRole` the
 * commands take, or throws an `invalidInput` error (for `submitting` to show in the form)
 * with the focus on the field to change.
 */
export function assumeRoleFields(current) {
  const attrs = { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false' };
  const arn = h('input', { ...attrs, testid: 'assume-role-arn', required: true, placeholder: 'arn:aws:iam::123456789012:role/Deploy' });
  const externalId = h('input', { ...attrs, testid: 'assume-external-id', maxlength: 1224 });
  const sessionName = h('input', { ...attrs, testid: 'assume-session-name', maxlength: 64, placeholder: 'aws-sso-tray' });
  const minutes = h('input', { type: 'number', class: 'num', testid: 'assume-minutes', inputmode: 'numeric',
    min: SESSION_MINUTES[0], max: SESSION_MINUTES[1], step: 1, placeholder: String(SESSION_MINUTES[1]) });
  arn.value = current?.roleArn ?? '';
  externalId.value = current?.externalId ?? '';
  sessionName.value = current?.sessionName ?? '';
  minutes.value = current?.durationSeconds ? String(Math.round(current.durationSeconds / 60)) : '';
  const node = h('fieldset', { class: 'assume', testid: 'assume-role-fields' },
    h('legend', { class: 'sr-only', text: 'Role to assume' }),
    field('Role ARN', arn),
    h('div', { class: 'row2' },
      field('External ID (optional)', externalId),
      field('Role session name (optional)', sessionName)),
    field('Session length in minutes (optional)', minutes, 'AWS gives a role assumed from another role at most one hour.'));
  // A field said to be wrong stops looking it once changed, and what was said of it goes:
  // the form never shows a complaint about a value no longer there.
  for (const i of [arn, minutes]) {
    i.addEventListener('input', () => {
      if (!i.hasAttribute('aria-invalid')) return;
      i.removeAttribute('aria-invalid');
      const msg = i.form?.querySelector('.form-error');
      if (msg) msg.hidden = true;
    });
  }
  const wrong = (input, message) => {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return { code: 'invalidInput', message };
  };
  function read() {
    for (const i of [arn, minutes]) i.removeAttribute('aria-invalid');
    const roleArn = arn.value.trim();
    if (!roleArn) throw wrong(arn, 'Enter the ARN of the role to assume, such as arn:aws:iam::123456789012:role/Deploy.');
    const out = { roleArn, externalId: externalId.value.trim() || null, sessionName: sessionName.value.trim() || null };
    const m = minutes.value.trim();
    // A number field holds '' for what is not a number: that is said, not taken as none.
    if (minutes.validity.badInput || m) {
      const n = Number(m);
      if (!Number.isInteger(n) || n < SESSION_MINUTES[0] || n > SESSION_MINUTES[1]) {
        throw wrong(minutes, `The session length is ${SESSION_MINUTES[0]} to ${SESSION_MINUTES[1]} minutes, or empty for an hour: AWS gives a role assumed from another role at most one hour.`);
      }
      out.durationSeconds = n * 60;
    }
    return out;
  }
  return { node, first: arn, read };
}

/** What the window offers for a console (services, colours, browsers, container
 * extensions, session lengths): asked for once, kept for the window's life. */
let consoleOffer = null;
export function consoleChoices(invoke) {
  consoleOffer ||= invoke('console_choices').catch((e) => { consoleOffer = null; throw e; });
  return consoleOffer;
}

/** A colour's swatch: its label is its accessible name. The colour is set through the
 * style object (the page's policy forbids style attributes). */
export function swatch(hex, label, props = {}) {
  const el = h('span', { class: 'swatch', role: 'img', 'aria-label': `Colour: ${label}`, title: label, ...props });
  el.style.setProperty('--swatch', hex);
  return el;
}

/**
 * The fields that choose the browser the console opens in: the browser, its profile (a
 * named browser only) and, for Firefox, a container extension and (with `containerName`,
 * the name used when none is typed) the container's name. `inherit` (a label) offers
 * "as the access portal says" first. Fields that do not apply are hidden, so no choice
 * the core would refuse can be made by them. Returns `{node, read}`: `read()` gives the
 * BrowserChoice to send, or null (the portal's, or the desktop's default).
 */
export function browserFields(choices, current, { inherit = null, containerName = null } = {}) {
  const attrs = { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false', maxlength: 100 };
  const kind = h('select', { testid: 'console-browser' },
    inherit && h('option', { value: '', text: inherit }),
    choices.browsers.map((b) => h('option', { value: b.name, text: b.label })));
  kind.value = current?.kind || (inherit ? '' : 'default');
  const profile = h('input', { ...attrs, testid: 'console-browser-profile', placeholder: 'its default profile' });
  profile.value = current?.profile || '';
  const container = h('select', { testid: 'console-container' },
    h('option', { value: '', text: 'No container' }),
    choices.containers.map((c) => h('option', { value: c.name, text: c.label })));
  container.value = choices.containers.find((c) => c.name === current?.container)?.name || '';
  const name = containerName != null && h('input', { ...attrs, testid: 'console-container-name', placeholder: containerName });
  if (name) name.value = current?.containerName || '';
  const profileField = field('Browser profile (optional)', profile, 'As the browser names it: a directory such as “Profile 1” for Chrome, Edge or Brave; a profile’s name for Firefox.');
  const containerField = field('Firefox container (optional)', container, 'Opens the console in a container, through this extension.');
  const nameField = name && field('Container name (optional)', name, `Left empty, it is named ${containerName}.`);
  // Pairs that take the whole width when one of them is hidden.
  const firefox = h('div', { class: 'pair' }, containerField, nameField);
  const sync = () => {
    const named = !!kind.value && kind.value !== 'default';
    profileField.hidden = !named;
    firefox.hidden = kind.value !== 'firefox';
    if (nameField) nameField.hidden = !container.value;
  };
  kind.addEventListener('change', sync);
  container.addEventListener('change', sync);
  sync();
  const node = h('div', { class: 'browser-fields', testid: 'console-browser-fields' },
    h('div', { class: 'pair' }, field('Browser', kind), profileField),
    firefox);
  function read() {
    const k = kind.value;
    if (!k) return null;
    const out = { kind: k };
    if (k === 'default') return out;
    if (profile.value.trim()) out.profile = profile.value.trim();
    if (k === 'firefox' && container.value) {
      out.container = container.value;
      if (name && name.value.trim()) out.containerName = name.value.trim();
    }
    // A program set elsewhere (the command line) stays with the browser it is for.
    if (current?.program && current.kind === k) out.program = current.program;
    return out;
  }
  return { node, kind, read, inputs: [kind, profile, container, name].filter(Boolean) };
}

/** Scrolls a form that was just opened wholly into view, if it fits: its buttons too. Only
 * as far as needed; a form taller than the view is left where its first field is. */
export function showWhole(node) {
  const view = node.closest('main');
  if (view && node.offsetHeight < view.clientHeight) node.scrollIntoView({ block: 'nearest' });
}
