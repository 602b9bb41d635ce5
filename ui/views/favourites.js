import { h, live, keepFocus, onEscape } from '../util.js';

export default function favouritesView(el) {
  let confirming = null; // {profile, dropEsc}
  let key = null;
  const busy = new Set(); // "renew:profile" while our call is pending

  function stopConfirm(ctx, refocus) {
    if (!confirming) return;
    const p = confirming.profile;
    confirming.dropEsc();
    confirming = null;
    key = null;
    update(ctx);
    if (refocus) el.querySelector(`[data-key="${CSS.escape(p)}"] [data-testid=remove-favourite]`)?.focus();
  }

  async function act(ctx, what, profile, cmd) {
    busy.add(`${what}:${profile}`);
    key = null; update(ctx);
    try { await ctx.invoke(cmd, { profile }); } catch (e) { ctx.showError(e); }
    busy.delete(`${what}:${profile}`);
    key = null; update(ctx);
  }

  function row(ctx, f) {
    // Each name in its own isolate: nothing in one can reorder the id beside it.
    const acct = f.accountName
      ? [h('bdi', { text: f.accountName }), ' (', h('bdi', { class: 'mono', text: f.accountId }), ')']
      : h('bdi', { class: 'mono', text: f.accountId });
    let status;
    if (f.error) status = h('p', { class: 'status err', testid: 'favourite-error', text: f.error });
    else if (f.expiresAt) status = live(h('p', { class: 'status', testid: 'favourite-expires' }), f.expiresAt, 'expires');
    else status = h('p', { class: 'status muted', text: f.credentialProcess ? 'Credentials fetched on demand' : 'Not written yet' });
    if (f.expiresAt && !f.error && f.expiresAt <= Date.now()) status.classList.add('err');
    const renewing = f.renewing || busy.has(`renew:${f.profile}`);
    const isConfirming = confirming?.profile === f.profile;
    const actions = isConfirming
      ? h('div', { class: 'actions confirm', role: 'group', 'aria-label': 'Confirm removal' },
        h('span', { class: 'small', text: `Remove ${f.profile} and its profile?` }),
        h('button', { type: 'button', class: 'danger small', testid: 'remove-favourite-confirm', text: 'Remove',
          onclick: () => { confirming.dropEsc(); confirming = null; act(ctx, 'remove', f.profile, 'remove_favourite'); } }),
        h('button', { type: 'button', class: 'small', testid: 'remove-favourite-cancel', text: 'Keep', onclick: () => stopConfirm(ctx, true) }))
      : h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', testid: 'renew-now', text: 'Renew now', disabled: renewing,
          onclick: () => act(ctx, 'renew', f.profile, 'renew_now') }),
        h('button', { type: 'button', class: 'small', testid: 'open-console', text: 'Open console',
          onclick: () => ctx.invoke('open_console', { profile: f.profile }).catch(ctx.showError) }),
        h('button', { type: 'button', class: 'small subtle', testid: 'remove-favourite', text: 'Remove', disabled: busy.has(`remove:${f.profile}`),
          onclick: () => {
            confirming?.dropEsc();
            confirming = { profile: f.profile, dropEsc: onEscape(() => stopConfirm(ctx, true)) };
            key = null; update(ctx);
            el.querySelector(`[data-key="${CSS.escape(f.profile)}"] [data-testid=remove-favourite-cancel]`)?.focus();
          } }));
    return h('li', { class: 'fav', testid: 'favourite-row', 'data-profile': f.profile, 'data-key': f.profile },
      h('div', { class: 'fav-head' },
        h('h3', { class: 'mono', text: f.profile }),
        f.credentialProcess && h('span', { class: 'tag', title: 'credential_process profile', text: 'on demand' }),
        renewing && h('span', { class: 'tag busy', testid: 'favourite-renewing', text: 'renewing…' })),
      h('p', { class: 'muted small' }, acct, ' · ', h('bdi', { text: f.roleName }), ' · ', f.region || 'no region'),
      status,
      actions);
  }

  function update(ctx) {
    const favs = ctx.S.app.favourites;
    const k = JSON.stringify(favs) + [...busy].join() + (confirming?.profile || '');
    if (k === key) return;
    key = k;
    if (confirming && !favs.some((f) => f.profile === confirming.profile)) { confirming.dropEsc(); confirming = null; }
    keepFocus(el, () => {
      if (!favs.length) {
        el.replaceChildren(h('h2', { tabindex: '-1', text: 'Favourites' }),
          h('div', { class: 'empty', testid: 'favourites-empty' },
            h('p', { text: 'No favourites yet.' }),
            h('p', { class: 'muted', text: 'In Accounts, find a role and choose “Add to favourites”: its profile is then written to your credentials file and kept fresh while you are signed in.' }),
            h('button', { type: 'button', class: 'primary', text: 'Go to Accounts', onclick: () => ctx.show('accounts') })));
        return;
      }
      el.replaceChildren(h('h2', { tabindex: '-1', text: `Favourites (${favs.length})` }),
        h('ul', { class: 'favs' }, favs.map((f) => row(ctx, f))));
    });
  }

  return {
    el,
    mount() { key = null; },
    unmount() { confirming?.dropEsc(); confirming = null; el.replaceChildren(); },
    update,
  };
}
