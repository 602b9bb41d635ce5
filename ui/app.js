import { invoke, listen } from './tauri.js';
import { errorText, instanceName, tickLive, nextLiveChange, handleEscape, num } from './util.js';
import { restCaretWhenIdle } from './caret.js';
import signInView from './views/signin.js';
import accountsView from './views/accounts.js';
import favouritesView from './views/favourites.js';
import settingsView from './views/settings.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const TABS = ['accounts', 'favourites', 'settings'];

// All UI state in one place. `app` is the backend's AppView.
const S = {
  app: null,
  view: null,
  accounts: null,      // AccountsView
  progress: null,      // {done, total} while refreshing
  accountsKey: null,   // instance + session the accounts were loaded for
  signInGen: 0,        // generation of our own sign_in call
  cancelledGen: -1,
  signInExpired: false, // the last code ran out; sign-in view offers "Try again"
};

const views = {
  signIn: signInView(document.getElementById('view-signIn')),
  accounts: accountsView(document.getElementById('view-accounts')),
  favourites: favouritesView(document.getElementById('view-favourites')),
  settings: settingsView(document.getElementById('view-settings')),
};

const signedIn = () => S.app?.session?.state === 'signedIn';

const ctx = {
  S,
  invoke,
  signedIn,
  show,
  showError,
  notify,
  startSignIn,
  cancelSignIn,
  render,
};

// ---- banners ------------------------------------------------------------------------

// A banner or a notice describes the present, or goes. What each one is about:
// `signIn` (the session: it goes when a sign-in starts or the session is signed in), a
// profile's state (`{ profile }`: it goes when that profile's state changes), or nothing
// in particular (it stays until dismissed).
const shown = { error: null, notice: null };

/** What is known now of the profile a message talks about; a change ends the message. */
function profileNow(profile) {
  const f = S.app?.favourites.find((x) => x.profile === profile);
  return JSON.stringify(f ? [f.renewing, f.writtenAt, f.error, f.status.tone, f.status.next] : null);
}

/** What a message is about, given where it was shown (`about`) and what it says. */
function subject(err, about) {
  if (about && about.profile != null) return { profile: about.profile, was: profileNow(about.profile) };
  if (about === 'signIn' || (err && err.code === 'signInNeeded')) return { signIn: true, during: signInUnderWay() };
  return null;
}

const signInUnderWay = () => !!(S.signingIn || S.app?.signIn || S.app?.session.state === 'signingIn');

/** Hides the banner and the notice that no longer describe the present: `signedIn`, the
 * session has just been signed in; `started`, a sign-in has just started. */
function dropStale({ signedIn = false, started = false } = {}) {
  const stale = (about) => about
    && ((about.signIn && (signedIn || started || (signInUnderWay() && !about.during)))
      || (about.profile != null && profileNow(about.profile) !== about.was));
  if (!$('error-banner').hidden && stale(shown.error)) hideError();
  if (!$('notice').hidden && stale(shown.notice)) hideNotice();
}

/** Shows `err` in the banner. A failure of work in the background (`background`) does not
 * take the place of a banner that asks to sign in: that one says what to do next.
 * `about`: what the message describes (see `subject`). */
function showError(err, { background = false, about } = {}) {
  if (err && err.code === 'cancelled') return;
  if (background && !$('error-banner').hidden && !$('error-sign-in').hidden && err?.code !== 'signInNeeded') return;
  shown.error = subject(err, about);
  $('error-message').textContent = errorText(err);
  $('error-sign-in').hidden = !(err && err.code === 'signInNeeded');
  $('error-banner').hidden = false;
  renderHeader();
}
function hideError() {
  shown.error = null;
  $('error-banner').hidden = true;
  $('error-sign-in').hidden = true;
  renderHeader();
}
$('error-dismiss').addEventListener('click', hideError);
$('error-sign-in').addEventListener('click', () => { hideError(); startSignIn(); });

let noticeTimer;
/** Shows `text` for a while; `about`: what it describes (see `subject`). */
function notify(text, { about } = {}) {
  shown.notice = subject(null, about);
  $('notice-message').textContent = text;
  $('notice').hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(hideNotice, 10000);
}
function hideNotice() {
  shown.notice = null;
  clearTimeout(noticeTimer);
  $('notice').hidden = true;
}
$('notice-dismiss').addEventListener('click', hideNotice);

// ---- sign in ------------------------------------------------------------------------

async function startSignIn() {
  if (!S.app) return;
  show('signIn');
  if (!S.app.instance || S.app.signIn) return; // the view shows the form / the pending code
  const gen = ++S.signInGen;
  S.signInExpired = false;
  S.signingIn = true;
  dropStale({ started: true });
  render();
  try {
    await invoke('sign_in');
    if (gen === S.signInGen && S.view === 'signIn') show('accounts');
  } catch (e) {
    if (gen !== S.signInGen || S.cancelledGen === gen) return;
    if (e && e.code === 'expired') S.signInExpired = true;
    else showError(e, { about: 'signIn' });
  } finally {
    if (gen === S.signInGen) { S.signingIn = false; render(); }
  }
}

async function cancelSignIn() {
  S.cancelledGen = S.signInGen;
  S.signInExpired = false;
  try { await invoke('cancel_sign_in'); } catch (e) { showError(e); }
  render();
}

$('sign-in').addEventListener('click', startSignIn);
$('sign-out').addEventListener('click', async () => {
  try { await invoke('sign_out'); } catch (e) { showError(e); }
});

// ---- views and tabs -----------------------------------------------------------------

function show(view) {
  if (S.view === view) return;
  if (S.view) views[S.view].unmount();
  S.view = view;
  for (const [name, v] of Object.entries(views)) v.el.hidden = name !== view;
  for (const t of document.querySelectorAll('[role=tab]')) {
    const on = t.dataset.view === view;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on || (view === 'signIn' && t.dataset.view === 'accounts') ? 0 : -1;
  }
  views[view].mount(ctx);
  render();
}

const tablist = document.querySelector('[role=tablist]');
tablist.addEventListener('click', (ev) => {
  const t = ev.target.closest('[role=tab]');
  if (t) show(t.dataset.view);
});
tablist.addEventListener('keydown', (ev) => {
  const i = TABS.indexOf(ev.target.dataset.view);
  let j = null;
  if (ev.key === 'ArrowRight') j = (i + 1) % TABS.length;
  else if (ev.key === 'ArrowLeft') j = (i + TABS.length - 1) % TABS.length;
  else if (ev.key === 'Home') j = 0;
  else if (ev.key === 'End') j = TABS.length - 1;
  if (j == null) return;
  ev.preventDefault();
  show(TABS[j]);
  document.getElementById(`tab-${TABS[j]}`).focus();
});

document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') {
    if (handleEscape()) ev.preventDefault();
    else if (!$('error-banner').hidden) hideError();
    return;
  }
  if (ev.key === '/' && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
    const t = ev.target;
    if (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
    if (!signedIn()) return;
    ev.preventDefault();
    show('accounts');
    views.accounts.focusSearch();
  }
});

// ---- rendering ----------------------------------------------------------------------

function renderHeader() {
  const a = S.app;
  if (!a) return;
  $('demo-banner').hidden = !a.demo;
  if (a.demo && a.emulatorUrl) $('demo-banner').title = `Emulator: ${a.emulatorUrl}`;
  const line = $('session-line');
  const st = a.session.state;
  line.dataset.state = a.instance ? st : 'none';
  // The words and their tone are the backend's, the same the tray shows.
  line.dataset.tone = a.session.line.tone;
  line.querySelector('.inst').textContent = a.instance ? instanceName(a.instance) : '';
  line.querySelector('.state').textContent = a.session.line.text;
  line.title = a.session.line.details || '';
  const inOrPending = st === 'signedIn';
  // One "Sign in" on screen: the sign-in view and the banner offer their own.
  const offered = S.view === 'signIn' || !$('error-sign-in').hidden;
  $('sign-in').hidden = inOrPending || !a.instance || !!a.signIn || st === 'signingIn' || !!S.signingIn || offered;
  $('sign-out').hidden = !inOrPending;
}

function render() {
  if (!S.app) return;
  dropStale();
  renderHeader();
  // Accounts follow the instance and the session; a session that ended keeps its list
  // (read-only) until the next sign-in.
  const st = S.app.session.state;
  const key = S.app.instance && (st === 'signedIn' || st === 'needsSignIn') ? `${S.app.instance.startUrl}|${st}` : null;
  if (key !== S.accountsKey) {
    S.accountsKey = key;
    S.accounts = null;
    S.progress = null;
    if (key) loadAccounts();
  }
  const hadFocus = document.activeElement && document.activeElement !== document.body;
  views[S.view].update(ctx);
  // A re-render removed the focused control: land on the view's heading, not nowhere.
  if (hadFocus && (!document.activeElement || document.activeElement === document.body)) {
    views[S.view].el.querySelector('h2')?.focus();
  }
  armLive();
}

async function loadAccounts() {
  const key = S.accountsKey;
  try {
    const v = await invoke('get_accounts');
    if (key !== S.accountsKey) return;
    if (!S.accounts || (v.updatedAt ?? 0) >= (S.accounts.updatedAt ?? 0)) S.accounts = v;
    render();
  } catch (e) { showError(e); }
}

function onState(app) {
  const prev = S.app;
  S.app = app;
  if (!prev) {
    // The window is made when it is opened; the view asked for comes in the address.
    const asked = location.hash.slice(1);
    if (asked && !app.signIn && (asked === 'signIn' || TABS.includes(asked))) {
      show(asked);
      if (asked === 'accounts') views.accounts.focusSearch();
    } else show(app.signIn || app.session.state !== 'signedIn' ? 'signIn' : 'accounts');
    return;
  }
  if (app.signIn && !prev.signIn) { S.signInExpired = false; dropStale({ started: true }); show('signIn'); }
  const nowIn = app.session.state === 'signedIn';
  const wasIn = prev.session.state === 'signedIn';
  if (nowIn && !wasIn) dropStale({ signedIn: true });
  if (nowIn && !wasIn && S.view === 'signIn' && !app.signIn) show('accounts');
  else if (!nowIn && wasIn && S.view === 'accounts' && app.session.state !== 'needsSignIn') show('signIn');
  render();
}

// One timer for every relative time on screen, set for the moment the first of them
// changes: none while nothing relative is on screen, or while the window is not seen, so
// an idle window does no work. `window.__liveTimer` tells whether it is set, and how
// often it went off.
const liveTimer = { id: null, due: null, fired: 0 };
window.__liveTimer = liveTimer;
function armLive() {
  clearTimeout(liveTimer.id);
  liveTimer.id = null;
  liveTimer.due = null;
  if (document.visibilityState === 'hidden') return;
  const now = Date.now();
  const due = nextLiveChange(document, now);
  if (due == null) return;
  liveTimer.due = due;
  // A few milliseconds late rather than early: the text has changed by then.
  liveTimer.id = setTimeout(tickNow, Math.max(0, due - now) + 10);
}
function tickNow() {
  liveTimer.id = null;
  liveTimer.fired += 1;
  const now = Date.now();
  tickLive(document, now);
  views[S.view]?.tick?.(ctx, now);
  armLive();
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') armLive();
  else tickNow();
});
// Nor does the caret of a focused field blink on while nobody is at the window.
restCaretWhenIdle();

async function start() {
  await Promise.all([
    listen('state', (e) => onState(e.payload)),
    listen('accounts', (e) => {
      if (!S.accountsKey) return;
      S.accounts = e.payload;
      if (!e.payload.refreshing) S.progress = null;
      if (e.payload.error) showError(e.payload.error, { background: true });
      render();
    }),
    // Roles that arrived during a refresh: each account replaces its namesake, in place.
    listen('accounts-changed', (e) => {
      if (!S.accountsKey || !S.accounts) return;
      const read = new Map(e.payload.map((a) => [a.accountId, a]));
      S.accounts = { ...S.accounts, accounts: S.accounts.accounts.map((a) => read.get(a.accountId) ?? a) };
      render();
    }),
    listen('accounts-progress', (e) => {
      S.progress = e.payload;
      if (S.accounts) S.accounts = { ...S.accounts, refreshing: true };
      if (S.view === 'accounts') views.accounts.progress(ctx);
    }),
    listen('show-view', (e) => {
      if (e.payload === 'signIn' || TABS.includes(e.payload)) show(e.payload);
      // "Browse accounts…" from the tray: ready to type a search.
      if (e.payload === 'accounts') views.accounts.focusSearch();
    }),
    // Something started from the tray failed.
    listen('error', (e) => showError(e.payload)),
    // The AWS CLI profiles followed a refresh of the account list.
    listen('profiles-generated', (e) => {
      const { created, updated, removed } = e.payload;
      if (created || updated || removed) notify(`AWS CLI profiles updated: ${num(created)} added, ${num(updated)} changed, ${num(removed)} removed.`);
    }),
  ]);
  try {
    onState(await invoke('get_state'));
  } catch (e) {
    showError(e);
  }
}

start();
