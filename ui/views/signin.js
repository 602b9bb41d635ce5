import { h, live, instanceName, instanceForm, submitting, onEscape } from '../util.js';

export default function signInView(el) {
  let key = null;
  let copyTimer;

  function mode(ctx, now = Date.now()) {
    const { app } = ctx.S;
    if (app.signIn) return app.signIn.expiresAt <= now ? 'expired' : 'pending';
    if (ctx.S.signInExpired) return 'expired';
    if (!app.instance) return 'add';
    return ctx.signedIn() ? 'done' : 'start';
  }

  async function copy(text, btn) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Fallback: a hidden textarea and execCommand, for webviews without clipboard access.
      const ta = h('textarea', { class: 'offscreen', readonly: true });
      ta.value = text;
      document.body.append(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
      btn.focus();
    }
    btn.textContent = 'Copied';
    clearTimeout(copyTimer);
    copyTimer = setTimeout(() => { btn.textContent = 'Copy'; }, 2000);
  }

  const openBrowser = (ctx) => h('button', {
    type: 'button', class: 'primary', testid: 'open-browser', text: 'Open in browser',
    onclick: () => ctx.invoke('open_sign_in_page').catch(ctx.showError),
  });
  const cancelBtn = (ctx) => h('button', {
    type: 'button', testid: 'cancel-sign-in', text: 'Cancel', onclick: () => ctx.cancelSignIn(),
  });

  // Other programs waiting for this sign-in (they asked the app instead of a terminal).
  const asked = (app) => app.asked && h('p', { class: 'asked center', role: 'status', testid: 'asked', text: app.asked });

  function build(ctx, m) {
    const { app } = ctx.S;
    const name = instanceName(app.instance);
    const heading = (t) => h('h2', { tabindex: '-1', text: t });
    if (m === 'pending' && app.signIn.userCode) {
      const code = app.signIn.userCode;
      return [
        heading(`Sign in to ${name}`),
        asked(app),
        h('p', { class: 'lead', text: 'Check the code matches the one in your browser, then press Allow.' }),
        h('div', { class: 'code-box' },
          h('output', { class: 'user-code', testid: 'user-code', 'aria-label': `Code ${code.split('').join(' ')}`, text: code }),
          h('div', { class: 'actions center' },
            h('button', { type: 'button', testid: 'copy-code', text: 'Copy', onclick: (ev) => copy(code, ev.currentTarget) }),
            openBrowser(ctx))),
        h('p', { class: 'muted center' }, 'Code expires in ',
          live(h('span', { class: 'mono', testid: 'countdown', role: 'timer' }), app.signIn.expiresAt, 'countdown')),
        h('div', { class: 'actions center' }, cancelBtn(ctx)),
      ];
    }
    if (m === 'pending') {
      return [
        heading(`Sign in to ${name}`),
        h('p', { class: 'lead', text: 'Continue in your browser: sign in there and allow access.' }),
        h('div', { class: 'actions center' }, openBrowser(ctx)),
        h('p', { class: 'muted center' }, 'Waiting for your browser · ',
          live(h('span', { class: 'mono', testid: 'countdown', role: 'timer' }), app.signIn.expiresAt, 'left')),
        h('div', { class: 'actions center' }, cancelBtn(ctx)),
      ];
    }
    if (m === 'expired') {
      return [
        heading(`Sign in to ${name}`),
        h('p', { class: 'lead', testid: 'countdown', text: 'Code expired — start again' }),
        h('div', { class: 'actions center' },
          h('button', {
            type: 'button', class: 'primary', testid: 'sign-in-retry', text: 'Try again',
            onclick: async () => {
              if (ctx.S.app.signIn) await ctx.cancelSignIn();
              ctx.S.signInExpired = false;
              ctx.startSignIn();
            },
          }),
          app.signIn ? cancelBtn(ctx) : h('button', {
            type: 'button', text: 'Not now', onclick: () => { ctx.S.signInExpired = false; ctx.render(); },
          })),
      ];
    }
    if (m === 'add') {
      const form = instanceForm({
        submitLabel: 'Continue',
        onSubmit: (f, instance) => submitting(f, () => ctx.invoke('add_instance', { instance }), ctx.showError).catch(() => {}),
      });
      // Access portals the AWS CLI is already set up for: one click to use them.
      const found = h('section', { class: 'card', testid: 'configured-portals', hidden: true, 'aria-labelledby': 'found-h' });
      ctx.invoke('configured_portals').then((list) => {
        if (!list.length) return;
        found.replaceChildren(
          h('h3', { id: 'found-h', text: list.length === 1 ? 'Found in your AWS CLI configuration' : `${list.length} access portals found in your AWS CLI configuration` }),
          h('ul', { class: 'found small' }, list.map((p) => h('li', {},
            h('bdi', { class: 'mono', text: p.startUrl }), ` · ${p.region} · `, h('bdi', { class: 'muted', text: p.source })))),
          h('div', { class: 'actions' }, h('button', {
            type: 'button', class: 'primary', testid: 'import-portals', text: list.length === 1 ? 'Use it' : `Use all ${list.length}`,
            onclick: async (ev) => {
              ev.currentTarget.disabled = true;
              try {
                const n = await ctx.invoke('import_aws_config');
                ctx.notify(n === 1 ? 'Added 1 access portal from your AWS CLI configuration.' : `Added ${n} access portals from your AWS CLI configuration.`);
              } catch (e) { ctx.showError(e); }
            },
          })),
          h('p', { class: 'muted small', text: 'Or add another below.' }));
        found.hidden = false;
      }).catch(() => {});
      return [
        heading('Welcome to AWS SSO Tray'),
        h('p', { class: 'lead', text: 'Sign in to AWS IAM Identity Center once, and your AWS profiles stay fresh all day. First, your AWS access portal:' }),
        found,
        form,
      ];
    }
    if (m === 'start') {
      const st = app.session.state;
      const busy = st === 'signingIn' || ctx.S.signingIn;
      return [
        heading(st === 'needsSignIn' ? 'Your session ended' : 'You are signed out'),
        asked(app),
        h('p', { class: 'lead', text: st === 'needsSignIn'
          ? 'Sign in again to keep your profiles fresh.'
          : 'Sign in once; your favourite profiles then stay fresh all day.' }),
        h('div', { class: 'actions center' },
          h('button', {
            type: 'button', class: 'primary big', testid: 'sign-in-start', disabled: busy,
            text: busy ? 'Starting sign-in…' : `Sign in to ${name}`, onclick: () => ctx.startSignIn(),
          }),
          app.asked && h('button', {
            type: 'button', testid: 'decline-sign-in', text: 'Not now',
            title: 'The programs waiting stop, saying the sign-in was declined.',
            onclick: () => ctx.invoke('decline_sign_in').catch(ctx.showError),
          })),
        h('p', { class: 'muted center small' }, `${app.instance.startUrl} · ${app.instance.region} · `,
          h('button', { type: 'button', class: 'link', text: 'Change', onclick: () => ctx.show('settings') })),
      ];
    }
    return [
      heading(`Signed in to ${name}`),
      h('p', { class: 'lead', text: app.session.line.text }),
      h('div', { class: 'actions center' },
        h('button', { type: 'button', class: 'primary', text: 'Show accounts', onclick: () => ctx.show('accounts') })),
    ];
  }

  let dropEsc = null;
  function update(ctx, now) {
    const m = mode(ctx, now);
    const { app } = ctx.S;
    const k = JSON.stringify([m, app.signIn?.userCode, app.signIn?.url, app.instance, app.session.state, app.session.line.text, !!ctx.S.signingIn, app.asked]);
    if (k === key) return;
    const wasAdd = key && key.startsWith('["add"');
    key = k;
    dropEsc?.(); dropEsc = null;
    // Keep a half-typed instance form across unrelated state pushes.
    if (m === 'add' && wasAdd) return;
    const focusWasHere = el.contains(document.activeElement);
    el.replaceChildren(...build(ctx, m).filter(Boolean));
    if (m === 'pending' || m === 'expired') {
      dropEsc = onEscape(() => (app.signIn ? ctx.cancelSignIn() : (ctx.S.signInExpired = false, ctx.render())));
    }
    const first = el.querySelector('[data-testid=sign-in-start], [data-testid=sign-in-retry], [data-testid=instance-start-url]');
    if (focusWasHere) (first || el.querySelector('h2')).focus();
    else if (first && document.activeElement === document.body) first.focus();
  }

  return {
    el,
    mount() { key = null; },
    unmount() { dropEsc?.(); dropEsc = null; el.replaceChildren(); key = null; },
    update: (ctx) => update(ctx),
    tick: (ctx, now) => update(ctx, now),
  };
}
