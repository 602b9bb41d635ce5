// The blinking caret of a focused text field has the page repainted at every blink, for as
// long as the window is open: most of what an idle window with a focused field costs.
// After a while with nobody at the keyboard or the mouse, the caret is put away, and it is
// back before the next key does anything.
//
// Put away, not the focus: the field keeps the focus (document.activeElement, the focus
// ring, what a screen reader is on), only the selection goes (`removeAllRanges`), and with
// it the caret. The next key, press or move of the pointer, or the window's coming back to
// the front, sets the selection back where it was (`setSelectionRange`) in a capturing
// listener, before the key's own handling: the key is for the field, as it always was, and
// does what it does there (a character typed, Tab to the next control, Enter submitting).
// A screen reader may hear the caret move back, once, at that key; the focus never moves.
// Fields whose selection a page cannot set (number, email) get their caret back from the
// browser itself: out and back in again (the browser keeps their selection), which a
// screen reader may announce as the field focused again.
//
// Only a text field with a caret is touched: nothing while a button or anything else has
// the focus, nor while text is selected (a selection does not blink). Whether the window is
// in front does not matter: idle is idle. `window.__caretRest` tells how often the caret
// was put away, and whether it is now.

/** Without keyboard or pointer for this long, the caret is put away. */
const IDLE_MS = 10_000;

// Text fields whose selection the page can read and set; `number` and `email` have a caret
// too, but no selection the page can reach.
const SETTABLE = /^(text|search|url|tel|password)$/;
const TYPED = /^(text|search|url|tel|password|number|email)$/;

const state = { rests: 0, resting: false };

/** The focused text field, if a caret blinks in it. */
function caretField() {
  const el = document.activeElement;
  if (!el || el.disabled || el.readOnly) return null;
  if (!(el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && TYPED.test(el.type)))) return null;
  return document.getSelection()?.type === 'Caret' ? el : null;
}

/** Puts the caret of the focused text field away after `IDLE_MS` without input, and back
 * at the next key, pointer press or move, or the window's coming to the front. */
export function restCaretWhenIdle() {
  let last = Date.now();
  let timer = null;
  // The field whose caret was put away, and where that caret was.
  let rested = null;
  window.__caretRest = state;

  const arm = (ms = IDLE_MS) => { timer ??= setTimeout(check, ms); };
  function check() {
    timer = null;
    const el = rested ? null : caretField();
    // No caret blinks: nothing to do until the focus or a key brings one (and arms again).
    if (!el) return;
    const left = last + IDLE_MS - Date.now();
    if (left > 0) { arm(left); return; }
    const settable = el.tagName === 'TEXTAREA' || SETTABLE.test(el.type);
    rested = { el, settable, start: el.selectionStart, end: el.selectionEnd, dir: el.selectionDirection };
    document.getSelection().removeAllRanges();
    state.rests += 1;
    state.resting = true;
  }

  function wake() {
    const r = rested;
    rested = null;
    state.resting = false;
    // The caret came back some other way (a script set it), or the field is gone or no
    // longer focused: nothing to restore.
    if (!r.el.isConnected || document.activeElement !== r.el || document.getSelection().rangeCount) return;
    if (r.settable) r.el.setSelectionRange(r.start, r.end, r.dir);
    else { r.el.blur(); r.el.focus({ preventScroll: true }); }
  }

  function activity() {
    last = Date.now();
    if (rested) wake();
    arm();
  }
  const opts = { capture: true, passive: true };
  for (const type of ['keydown', 'pointerdown', 'pointermove', 'wheel']) window.addEventListener(type, activity, opts);
  // The window back in front: the caret with it (a focus event of the window itself).
  window.addEventListener('focus', (ev) => { if (ev.target === window) activity(); });
  // The focus moved (by the person or the page): the idle time counts from now, and a
  // caret put away in a field no longer focused is forgotten.
  document.addEventListener('focusin', () => {
    if (rested && document.activeElement !== rested.el) { rested = null; state.resting = false; }
    last = Date.now();
    arm();
  });
  // A selection set again by anything but a key (a script, the browser): resting is over.
  document.addEventListener('selectionchange', () => {
    if (rested && document.getSelection().rangeCount) { rested = null; state.resting = false; arm(); }
  });
  arm();
}
