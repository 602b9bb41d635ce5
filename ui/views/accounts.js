import { h, field, live, num, clock, formError, submitting, onEscape } from '../util.js';

const LIMIT = 150;
const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/** Letters and digits of `text` as lower-case ASCII: accents dropped ("Zürich" → "zurich"),
 * every other run of characters one '-', none at either end. */
const slug = (text) => String(text).normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
  .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');

/** The longest suggested profile name: whole in the form at the window's default width
 * (a longer one may be typed, up to the 128 the AWS files allow). */
const SUGGESTED_MAX = 48;

/** A profile name for a role: `account-role` from the names, in characters the AWS CLI and
 * SDKs accept, at most SUGGESTED_MAX long (the account's part is cut first), never empty:
 * an account name with no Latin letter or digit gives its id instead. */
export const suggestProfile = (accountName, accountId, roleName) => {
  const role = slug(roleName).slice(0, SUGGESTED_MAX / 2).replace(/-+$/, '') || 'role';
  const account = slug(accountName) || slug(accountId) || 'account';
  const room = SUGGESTED_MAX - role.length - 1;
  return `${account.slice(0, room).replace(/-+$/, '')}-${role}`;
};

export default function accountsView(el) {
  let list = null;         // the accounts array the index was built from
  let index = [];          // [{a, name, id, roles: [lowercase role]}] sorted by name
  let query = '';
  let signedIn = null;
  let form = null;         // {node, accountId, roleName, kind, dropEsc}
  let lastMs = 0;
  let parts = null;        // DOM built on mount

  function buildIndex(accounts) {
    index = accounts
      .slice()
      .sort((x, y) => collator.compare(x.accountName || x.accountId, y.accountName || y.accountId))
      .map((a) => ({ a, text: `${a.accountName || ''}\n${a.accountId}`.toLowerCase(), roles: a.roles.map((r) => r.toLowerCase()) }));
  }

  function mountParts(ctx) {
    const search = h('input', {
      type: 'search', testid: 'account-search', placeholder: 'Search accounts, ids or roles',
      'aria-label': 'Search accounts, ids or roles', 'aria-keyshortcuts': '/', autocomplete: 'off', spellcheck: 'false',
      'aria-controls': 'account-list',
    });
    search.value = query;
    search.addEventListener('input', () => { query = search.value; renderList(ctx); });
    search.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && search.value) { ev.stopPropagation(); search.value = ''; query = ''; renderList(ctx); }
    });
    const updated = h('span', { class: 'muted small', testid: 'accounts-updated' });
    const refresh = h('button', {
      type: 'button', class: 'small', testid: 'accounts-refresh', text: 'Refresh',
      onclick: async () => {
        ctx.S.progress ||= { done: 0, total: null };
        progress(ctx);
        try { await ctx.invoke('refresh_accounts'); } catch (e) { ctx.S.progress = null; progress(ctx); ctx.showError(e); }
      },
    });
    const bar = h('progress', { max: 1 });
    const barText = h('span', { class: 'small' });
    const prog = h('div', { class: 'progress', testid: 'accounts-progress', hidden: true }, barText, bar);
    const summary = h('p', { class: 'muted small summary', testid: 'accounts-summary', 'aria-live': 'polite' });
    const rows = h('div', { class: 'accounts', id: 'account-list', testid: 'account-list' });
    rows.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      if (b) openForm(ctx, b.closest('[data-testid=role-row]'), b.dataset.action);
    });
    const empty = h('div', { class: 'empty', hidden: true });
    const tools = h('div', { class: 'toolbar' }, search, h('div', { class: 'meta' }, updated, refresh));
    parts = { search, updated, refresh, prog, bar, barText, summary, rows, empty, tools };
    el.replaceChildren(h('h2', { class: 'sr-only', tabindex: '-1', text: 'Accounts' }), tools, prog, empty, summary, rows);
  }

  function progress(ctx) {
    if (!parts) return;
    const p = ctx.S.progress;
    const on = !!(p || ctx.S.accounts?.refreshing);
    parts.prog.hidden = !on;
    parts.refresh.disabled = on;
    if (!on) return;
    if (p && p.total != null) {
      parts.bar.value = p.total ? p.done / p.total : 0;
      parts.barText.textContent = `Reading roles ${num(p.done)} of ${num(p.total)}`;
    } else {
      parts.bar.removeAttribute('value'); // indeterminate
      parts.barText.textContent = 'Listing accounts…';
    }
  }

  function emptyState(ctx, text, withButton) {
    parts.empty.replaceChildren(h('p', { text }),
      ...[withButton && h('button', { type: 'button', class: 'primary', testid: 'accounts-sign-in', text: 'Sign in', onclick: () => ctx.startSignIn() })].filter(Boolean));
    parts.empty.hidden = false;
  }

  function renderList(ctx) {
    const t0 = performance.now();
    const { S } = ctx;
    const acc = S.accounts;
    parts.empty.hidden = true;
    parts.summary.textContent = '';
    parts.tools.hidden = !ctx.signedIn();
    if (!ctx.signedIn()) { closeForm(); parts.rows.replaceChildren(); return emptyState(ctx, 'Sign in to see your accounts', true); }
    if (acc && !acc.accounts.length && acc.error && !acc.refreshing) {
      parts.rows.replaceChildren();
      return emptyState(ctx, `Could not read your accounts. ${acc.error.message || ''} Press Refresh to try again.`);
    }
    if (!acc || (!acc.accounts.length && acc.updatedAt == null)) {
      parts.rows.replaceChildren();
      return emptyState(ctx, 'Loading your accounts…');
    }
    if (!acc.accounts.length) { parts.rows.replaceChildren(); return emptyState(ctx, 'No accounts are assigned to you in this organisation.'); }

    const q = query.trim().toLowerCase();
    const frag = document.createDocumentFragment();
    let matches = 0;
    for (const it of index) {
      let roles = it.a.roles;
      if (q && !it.text.includes(q)) {
        // Matched by role only: show just the matching roles.
        roles = roles.filter((_, i) => it.roles[i].includes(q));
        if (!roles.length) continue;
      }
      if (++matches <= LIMIT) frag.append(accountRow(it.a, roles));
    }
    const keep = form && frag.querySelector(`[data-key="${CSS.escape(form.accountId + '/' + form.roleName)}"]`);
    const hadFocus = form && form.node.contains(document.activeElement) ? document.activeElement : null;
    if (keep) keep.append(form.node);
    else closeForm();
    parts.rows.replaceChildren(frag);
    if (hadFocus) hadFocus.focus();

    if (!matches) emptyState(ctx, `No account or role matches "${query.trim()}".`);
    else if (matches > LIMIT) parts.summary.textContent = `Showing ${LIMIT} of ${num(matches)} — refine your search`;
    else parts.summary.textContent = `${num(matches)} ${matches === 1 ? 'account' : 'accounts'}`;
    lastMs = performance.now() - t0;
    parts.rows.dataset.renderMs = lastMs.toFixed(1);
  }

  function accountRow(a, roles) {
    return h('article', { class: 'account', testid: 'account-row', 'data-account-id': a.accountId },
      h('div', { class: 'acct-head' },
        h('h3', {}, h('bdi', { text: a.accountName || a.accountId })),
        h('span', { class: 'mono muted small', text: a.accountId }),
        a.emailAddress && h('span', { class: 'muted small email', text: a.emailAddress })),
      h('ul', { class: 'roles', 'aria-label': `Roles in ${a.accountName || a.accountId}` },
        roles.map((r) => h('li', { class: 'role', testid: 'role-row', 'data-role-name': r, 'data-key': `${a.accountId}/${r}` },
          h('div', { class: 'role-line' }, h('span', { class: 'role-name', text: r }),
          h('span', { class: 'role-actions' },
            h('button', { type: 'button', class: 'small', testid: 'add-favourite', 'data-action': 'favourite', 'aria-label': `Add ${r} in ${a.accountName} to favourites`, text: 'Add to favourites' }),
            h('button', { type: 'button', class: 'small', testid: 'write-profile', 'data-action': 'write', 'aria-label': `Write profile now for ${r} in ${a.accountName}`, text: 'Write profile now' })))))));
  }

  function closeForm(refocus) {
    if (!form) return;
    const f = form;
    form = null;
    f.dropEsc();
    f.node.remove();
    if (refocus) parts.rows.querySelector(`[data-key="${CSS.escape(f.accountId + '/' + f.roleName)}"] [data-action=${f.kind}]`)?.focus();
  }

  function openForm(ctx, roleRow, kind) {
    const accountId = roleRow.closest('[data-account-id]').dataset.accountId;
    const roleName = roleRow.dataset.roleName;
    const account = ctx.S.accounts.accounts.find((a) => a.accountId === accountId);
    closeForm();
    const fav = kind === 'favourite';
    const name = h('input', { type: 'text', class: 'mono', testid: 'profile-name', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 128 });
    name.value = suggestProfile(account.accountName, accountId, roleName);
    const region = h('input', { type: 'text', testid: 'profile-region', list: 'aws-regions', autocomplete: 'off', spellcheck: 'false', placeholder: 'none (use your default)' });
    const cp = fav && h('input', { type: 'checkbox', testid: 'profile-credential-process' });
    const node = h('form', { class: 'profile-form', testid: 'profile-form', 'data-kind': kind, novalidate: true,
      'aria-label': fav ? `Add ${roleName} to favourites` : `Write profile for ${roleName}` },
      field('Profile name', name),
      h('div', { class: 'row2' }, field('Region', region)),
      cp && field('Fetch credentials on demand (credential_process)', cp),
      formError(),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary small', testid: 'profile-submit', text: fav ? 'Add favourite' : 'Write profile' }),
        h('button', { type: 'button', class: 'small', testid: 'profile-cancel', text: 'Cancel', onclick: () => closeForm(true) })));
    node.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const profile = name.value.trim();
      const reg = region.value.trim() || null;
      try {
        if (fav) {
          await submitting(node, () => ctx.invoke('add_favourite', { favourite: {
            profile, accountId, accountName: account.accountName ?? null, roleName, region: reg, credentialProcess: cp.checked } }), ctx.showError);
          ctx.notify(`Added ${profile} to your favourites; it is kept fresh from now on.`);
        } else {
          const r = await submitting(node, () => ctx.invoke('write_profile', { request: { profile, accountId, roleName, region: reg } }), ctx.showError);
          ctx.notify(`Wrote profile ${r.profile} to ${ctx.S.app.credentialsFile}; valid until ${r.expiresAt ? clock(r.expiresAt) : '—'}.`);
        }
        closeForm(true);
      } catch { /* shown inline or in the banner */ }
    });
    form = { node, accountId, roleName, kind, dropEsc: onEscape(() => closeForm(true)) };
    roleRow.append(node);
    name.focus();
    name.select();
  }

  return {
    el,
    mount(ctx) { list = null; signedIn = null; mountParts(ctx); },
    unmount() { closeForm(); parts = null; el.replaceChildren(); },
    update(ctx) {
      const acc = ctx.S.accounts;
      if (acc?.updatedAt) live(parts.updated, acc.updatedAt, 'ago');
      else { delete parts.updated.dataset.fmt; parts.updated.textContent = ''; }
      progress(ctx);
      const now = ctx.signedIn();
      if (acc?.accounts !== list || now !== signedIn) {
        list = acc?.accounts;
        signedIn = now;
        if (list) buildIndex(list);
        renderList(ctx);
      }
    },
    progress,
    get lastMs() { return lastMs; },
  };
}
