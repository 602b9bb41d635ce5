import { h, field, live, num, clock, formError, submitting, onEscape, submitOnEnter, removalConfirm, focusKeep, assumeRoleFields, roleOfArn, consoleChoices, showWhole } from '../util.js';
import { fold, parseQuery, matchingRoles } from '../search.js';

/** Rows drawn at a time: a keystroke draws one page; scrolling (or the arrow keys) near the
 * end of the list draws the next. */
const PAGE = 20;

/** Makes `parent`'s children `kids`, in this order, moving and removing as few nodes as it
 * can: a node left where it was keeps the focus, the pointer's hover and a press under way. */
export function reconcile(parent, kids) {
  const want = new Set(kids);
  let at = parent.firstChild;
  const drop = () => { const next = at.nextSibling; at.remove(); at = next; };
  for (const kid of kids) {
    while (at && at !== kid && !want.has(at)) drop();
    if (at === kid) at = at.nextSibling;
    else parent.insertBefore(kid, at);
  }
  while (at) drop();
}

export default function accountsView(el) {
  let list = null;         // the accounts array the index was built from
  let index = [];          // [{a, fields, roles: [folded role]}] in the order of the list
  let query = '';
  let signedIn = null;
  let form = null;         // {node, accountId, roleName, kind, dropEsc}
  let cursor = null;       // the key ("account/role") of the role the arrow keys selected
  let lastMs = 0;
  let parts = null;        // DOM built on mount
  let favOf = new Map();   // "accountId/role" → the favourite of the current access portal
  let favKey = '';         // what favOf was made from
  let matched = [];        // [account, roles shown] for the current query, in order
  let drawn = 0;           // how many of `matched` are in the list
  let asked = '';          // the accounts last asked to have their roles read first
  let lastCtx = null;      // the context of the last drawing, for the pages drawn on scroll
  let waiting = [];        // accounts the query may match once their roles are read
  // accountId → the account's row: made once, then changed in place where its account
  // changed (roles arriving, a favourite added), so a row a person is using stays the same.
  const rowsOf = new Map();
  // The console's page list every role's picker is a copy of: "Home" until the services
  // are known, then filled in everywhere at once (the picker is as wide either way).
  const pagePicker = h('select', { class: 'page-pick', testid: 'role-console-page' }, h('option', { value: '', text: 'Home' }));
  let pagesKnown = false;
  const consoleOpening = new Set(); // "account/role" whose console is being opened

  /** The index of `accounts`, in the order given (the core's: by name, whatever the
   * locale). Rows of accounts no longer listed are forgotten. */
  function buildIndex(accounts) {
    const ids = new Set(accounts.map((a) => a.accountId));
    for (const id of rowsOf.keys()) if (!ids.has(id)) rowsOf.delete(id);
    index = accounts.map((a) => ({ a, fields: [fold(a.accountName || ''), a.accountId, fold(a.emailAddress || '')], roles: a.roles.map(fold) }));
  }

  function mountParts(ctx) {
    const search = h('input', {
      type: 'search', testid: 'account-search', placeholder: 'Search accounts, ids or roles',
      'aria-label': 'Search accounts, ids or roles', 'aria-keyshortcuts': '/', autocomplete: 'off', spellcheck: 'false',
      'aria-controls': 'account-list', role: 'combobox', 'aria-expanded': 'true', 'aria-autocomplete': 'list',
    });
    search.value = query;
    search.addEventListener('input', () => { query = search.value; cursor = null; renderList(ctx, false); });
    search.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && search.value) { ev.stopPropagation(); search.value = ''; query = ''; cursor = null; renderList(ctx, false); }
      else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') { ev.preventDefault(); move(ev.key === 'ArrowDown' ? 1 : -1); }
      else if (ev.key === 'PageDown' || ev.key === 'PageUp') { ev.preventDefault(); move(ev.key === 'PageDown' ? 10 : -10); }
      else if (ev.key === 'Enter' && cursor && !parts.rows.classList.contains('readonly')) {
        ev.preventDefault();
        const row = selectedRow();
        if (row) openForm(ctx, row, favOf.has(row.dataset.key) ? 'edit' : 'favourite', true);
      }
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
    const ended = h('p', { class: 'card warn small', testid: 'accounts-read-only', hidden: true,
      text: 'Your session ended: this is the list as it was. Sign in to refresh it and to add favourites.' });
    const rows = h('div', { class: 'accounts', id: 'account-list', testid: 'account-list', role: 'listbox', 'aria-label': 'Roles' });
    rows.addEventListener('click', (ev) => {
      const c = ev.target.closest('button[data-console]');
      if (c) { openConsole(ctx, c); return; }
      const b = ev.target.closest('button[data-action]');
      if (b) openForm(ctx, b.closest('[data-testid=role-row]'), b.dataset.action);
    });
    const empty = h('div', { class: 'empty', hidden: true });
    // Coming into view (the list scrolled near its end) draws the next page.
    const more = h('div', { class: 'more', 'aria-hidden': 'true' });
    new IntersectionObserver((seen) => { if (seen.some((e) => e.isIntersecting)) drawMore(); }, { rootMargin: '400px' }).observe(more);
    const tools = h('div', { class: 'toolbar' }, search, h('div', { class: 'meta' }, updated, refresh));
    parts = { search, updated, refresh, prog, bar, barText, summary, rows, empty, tools, ended };
    el.replaceChildren(h('h2', { class: 'sr-only', tabindex: '-1', text: 'Accounts' }), ended, tools, prog, empty, summary, rows, more);
    if (!pagesKnown) {
      consoleChoices(ctx.invoke).then((c) => {
        if (pagesKnown) return;
        pagesKnown = true;
        const options = c.services.map((sv) => h('option', { value: sv.name, text: sv.label }));
        pagePicker.append(...options);
        // Pickers already drawn gain the services in place: their choice and focus stay.
        for (const row of rowsOf.values()) {
          for (const role of row.roleEls.values()) role.page.append(...options.map((o) => o.cloneNode(true)));
        }
      }, () => { /* the pickers offer the console's home only */ });
    }
  }

  /** Opens the console as the role of `btn`'s row, on the page its picker names. The
   * button stays as it is while the console opens (busy, not disabled: it keeps the
   * focus and the row keeps its shape); the answer is a notice, or the banner. */
  async function openConsole(ctx, btn) {
    const li = btn.closest('[data-testid=role-row]');
    const accountId = li.closest('[data-account-id]').dataset.accountId;
    const roleName = li.dataset.roleName;
    const key = `${accountId}/${roleName}`;
    if (consoleOpening.has(key)) return;
    const picker = li.querySelector('[data-testid=role-console-page]');
    const service = picker?.value || null;
    const page = service ? picker.selectedOptions[0]?.textContent : null;
    const name = ctx.S.accounts?.accounts.find((a) => a.accountId === accountId)?.accountName || accountId;
    consoleOpening.add(key);
    btn.setAttribute('aria-busy', 'true');
    try {
      await ctx.invoke('open_role_console', { accountId, roleName, service });
      ctx.notify(`Opened the AWS console as ${roleName} in ${name}${page ? `, on ${page}` : ''}.`);
    } catch (e) {
      ctx.showError(e);
    } finally {
      consoleOpening.delete(key);
      btn.removeAttribute('aria-busy');
    }
  }

  function progress(ctx) {
    if (!parts) return;
    const p = ctx.S.progress;
    const on = !!(p || ctx.S.accounts?.refreshing);
    parts.prog.hidden = !on;
    parts.refresh.disabled = on || parts.rows.classList.contains('readonly');
    if (!on) return;
    if (p && p.total != null) {
      parts.bar.value = p.total ? p.done / p.total : 0;
      parts.barText.textContent = `Reading roles ${num(p.done)} of ${num(p.total)}`;
    } else {
      parts.bar.removeAttribute('value'); // indeterminate
      parts.barText.textContent = 'Listing accounts…';
    }
  }

  function emptyState(ctx, text, action) {
    parts.empty.replaceChildren(h('p', { text }), ...(action ? [action] : []));
    parts.empty.hidden = false;
  }

  /** The way on from an empty list when signed out: to the sign-in, or to adding the
   * first access portal when there is none yet. */
  function signInAction(ctx) {
    const first = !ctx.S.app.instance;
    return h('div', { class: 'actions center' }, h('button', {
      type: 'button', class: 'primary', testid: 'accounts-sign-in',
      text: first ? 'Add your access portal' : 'Sign in', onclick: () => ctx.show('signIn'),
    }));
  }

    /** Draws the list for the query. `keep`: the same query with new data (roles arriving),
   * so as many rows stay drawn and the list stays where it was scrolled. */
  function renderList(ctx, keep = true) {
    const t0 = performance.now();
    const scroller = el.closest('main');
    const top = keep && scroller ? scroller.scrollTop : 0;
    const wasDrawn = keep ? drawn : 0;
    lastCtx = ctx;
    const { S } = ctx;
    const acc = S.accounts;
    parts.empty.hidden = true;
    // A session that ended leaves its list to look at, not to act on.
    const readOnly = !ctx.signedIn() && S.app.session.state === 'needsSignIn' && !!acc?.accounts.length;
    parts.tools.hidden = !ctx.signedIn() && !readOnly;
    parts.rows.classList.toggle('readonly', readOnly);
    progress(ctx);
    parts.ended.hidden = !readOnly;
    if (readOnly) closeForm();
    if (!ctx.signedIn() && !readOnly) { closeForm(); parts.rows.replaceChildren(); summary(''); return emptyState(ctx, S.app.instance ? 'Sign in to see your accounts.' : 'Add your AWS access portal, then sign in, to see your accounts.', signInAction(ctx)); }
    if (acc && !acc.accounts.length && acc.error && !acc.refreshing) {
      parts.rows.replaceChildren();
      summary('');
      return emptyState(ctx, `Could not read your accounts. ${acc.error.message || ''} Press Refresh to try again.`);
    }
    if (!acc || (!acc.accounts.length && acc.updatedAt == null)) {
      parts.rows.replaceChildren();
      summary('');
      return emptyState(ctx, 'Loading your accounts…');
    }
    if (!acc.accounts.length) { parts.rows.replaceChildren(); summary(''); return emptyState(ctx, 'No accounts are assigned to you in this access portal.'); }

    const tests = parseQuery(query);
    matched = [];
    waiting = [];
    for (const it of index) {
      const roles = tests.length ? matchingRoles(it, tests) : it.a.roles;
      if (roles.length) matched.push([it.a, roles]);
      // Roles on their way: the account shows by its own words; role words wait for them.
      else if (it.a.rolesPending && tests.every((t) => it.fields.some(t))) matched.push([it.a, []]);
      // Some words match the account, the others may match roles not read yet.
      else if (it.a.rolesPending) {
        const words = tests.filter((t) => it.fields.some(t)).length;
        if (words) waiting.push([it.a, words]);
      }
    }
    const matches = matched.length;
    drawn = Math.min(Math.max(PAGE, wasDrawn), matches);
    const rows = [];
    for (let i = 0; i < drawn; i++) rows.push(rowFor(...matched[i]));
    // Rows already in the list stay where they are, changed only where their data did.
    reconcile(parts.rows, rows);
    if (form && !parts.rows.contains(form.node)) closeForm();
    if (keep && scroller && scroller.scrollTop !== top) scroller.scrollTop = top;
    select(cursor && parts.rows.querySelector(`[data-key="${CSS.escape(cursor)}"]`), !keep);
    askFirst(ctx, tests.length > 0);

    // Role words may match more once every account's roles are read.
    const pending = index.reduce((n, it) => n + (it.a.rolesPending ? 1 : 0), 0);
    const reading = pending ? `the roles of ${num(pending)} ${pending === 1 ? 'account are' : 'accounts are'} still being read` : '';
    if (!matches) { summary(''); emptyState(ctx, `No account or role matches "${query.trim()}"${reading ? ` yet: ${reading}.` : '.'}`); }
    else summary(`${num(matches)} ${matches === 1 ? 'account' : 'accounts'}${reading ? ` · ${reading}` : ''}`);
    lastMs = performance.now() - t0;
    parts.rows.dataset.renderMs = lastMs.toFixed(1);
  }

  /** The line under the search box (announced when it changes, so only then). */
  function summary(text) {
    if (parts.summary.textContent !== text) parts.summary.textContent = text;
  }

  /** Asks for the roles of the accounts the person sees (and, while searching, of every
   * account the search finds) to be read before the others'. */
  function askFirst(ctx, searching) {
    const seen = (searching ? matched : matched.slice(0, drawn)).map(([a]) => a);
    // The accounts that match the most words first.
    const likely = searching ? waiting.slice().sort((x, y) => y[1] - x[1]).map(([a]) => a) : [];
    const ids = seen.concat(likely)
      .filter((a) => a.rolesPending).slice(0, 100).map((a) => a.accountId);
    const key = ids.join(',');
    if (!ids.length || key === asked) return;
    asked = key;
    ctx.invoke('prioritise_accounts', { ids }).catch(() => {});
  }

  /** The next page of the list; false when all of it is drawn. */
  function drawMore() {
    if (!parts || drawn >= matched.length) return false;
    const frag = document.createDocumentFragment();
    const to = Math.min(matched.length, drawn + PAGE);
    for (; drawn < to; drawn++) frag.append(rowFor(...matched[drawn]));
    parts.rows.append(frag);
    if (lastCtx) askFirst(lastCtx, parseQuery(query).length > 0);
    return true;
  }

  /** The account's row showing just `roles`: made on first use, then re-used and changed
   * in place (a keystroke moves and hides rows; new data changes only what it changed). */
  function rowFor(a, roles) {
    let row = rowsOf.get(a.accountId);
    if (!row) {
      row = accountRow(a);
      rowsOf.set(a.accountId, row);
    }
    if (row.a !== a || row.favKey !== favKey) syncRow(row, a);
    const keep = new Set(roles);
    for (const [r, role] of row.roleEls) {
      const hide = !keep.has(r);
      if (role.li.hidden !== hide) role.li.hidden = hide;
    }
    return row.node;
  }

  /** ☆ adds the role to the favourites (a form for its profile); ★ says it is one, under
   * which profile, and opens it to edit or remove: adding never overwrites. The button
   * is changed in place, so the focus stays on it. */
  function setFav(btn, name, r, f) {
    btn.className = f ? 'small fav-on' : 'small';
    btn.dataset.testid = f ? 'edit-favourite' : 'add-favourite';
    btn.dataset.action = f ? 'edit' : 'favourite';
    btn.setAttribute('aria-pressed', String(!!f));
    btn.setAttribute('aria-label', f ? `${r} in ${name} is favourite ${f.profile}: edit` : `Add ${r} in ${name} to favourites`);
    if (f) btn.title = 'A favourite: edit or remove it';
    else btn.removeAttribute('title');
    btn.replaceChildren(h('span', { class: 'star', 'aria-hidden': 'true', text: f ? '★' : '☆' }),
      f ? h('span', { class: 'mono', text: f.profile }) : ' Add to favourites');
  }

  /** The line of one role, its buttons filled in by syncRow. */
  function roleLine(accountId, r) {
    const fav = h('button', { type: 'button' });
    const write = h('button', { type: 'button', class: 'small', testid: 'write-profile', 'data-action': 'write', text: 'Write profile now' });
    const open = h('button', { type: 'button', class: 'small', testid: 'role-console', 'data-console': '', text: 'Open console' });
    const page = pagePicker.cloneNode(true);
    const li = h('li', { class: 'role', testid: 'role-row', role: 'option', 'aria-selected': 'false', id: `role-${accountId}-${r}`, 'data-role-name': r, 'data-key': `${accountId}/${r}` },
      h('div', { class: 'role-line' }, h('span', { class: 'role-name', text: r }),
        h('span', { class: 'role-actions' }, fav, write,
          h('span', { class: 'console-pick', testid: 'role-console-pick' }, open, page))));
    return { li, fav, write, open, page, drawn: null };
  }

  /** A new, empty row of an account; syncRow fills it in. */
  function accountRow(a) {
    const bdi = h('bdi');
    const head = h('div', { class: 'acct-head' }, h('h3', {}, bdi), h('span', { class: 'mono muted small', text: a.accountId }));
    const ul = h('ul', { class: 'roles' });
    const node = h('article', { class: 'account', testid: 'account-row', 'data-account-id': a.accountId }, head, ul);
    return { node, head, bdi, ul, email: null, pending: null, roleEls: new Map(), a: null, favKey: null, name: null, mail: null };
  }

  /** Makes `row` show account `a`, changing only what differs from what it shows. */
  function syncRow(row, a) {
    const name = a.accountName || a.accountId;
    if (row.name !== name) {
      row.bdi.textContent = name;
      row.ul.setAttribute('aria-label', `Roles in ${name}`);
      row.name = name;
    }
    const mail = a.emailAddress || '';
    if (row.mail !== mail) {
      if (!mail) { row.email?.remove(); row.email = null; }
      else {
        row.email ||= row.head.appendChild(h('span', { class: 'muted small email' }));
        row.email.textContent = mail;
      }
      row.mail = mail;
    }
    const kids = [];
    if (a.rolesPending && !a.roles.length) {
      row.pending ||= h('li', { class: 'role muted small', testid: 'roles-pending', text: 'Reading roles…' });
      kids.push(row.pending);
    } else row.pending = null;
    const seen = new Set();
    for (const r of a.roles) {
      if (seen.has(r)) continue;
      seen.add(r);
      let role = row.roleEls.get(r);
      if (!role) { role = roleLine(a.accountId, r); row.roleEls.set(r, role); }
      const f = favOf.get(`${a.accountId}/${r}`);
      const drawnAs = `${name}\n${f ? f.profile : ''}`;
      if (role.drawn !== drawnAs) {
        setFav(role.fav, name, r, f);
        role.write.setAttribute('aria-label', `Write profile now for ${r} in ${name}`);
        role.open.setAttribute('aria-label', `Open the AWS console as ${r} in ${name}`);
        role.page.setAttribute('aria-label', `Console page for ${r} in ${name}`);
        role.drawn = drawnAs;
      }
      kids.push(role.li);
    }
    for (const r of [...row.roleEls.keys()]) if (!seen.has(r)) row.roleEls.delete(r);
    reconcile(row.ul, kids);
    row.a = a;
    row.favKey = favKey;
  }

  /** The role the arrow keys selected: highlighted, in view, and announced through the
   * search box (which keeps the focus, so typing goes on refining). */
  function select(row, reveal = true) {
    const was = parts.rows.querySelector('.role.selected');
    if (was && was !== row) {
      was.classList.remove('selected');
      was.setAttribute('aria-selected', 'false');
    }
    cursor = row ? row.dataset.key : null;
    if (!row) { parts.search.removeAttribute('aria-activedescendant'); return; }
    row.classList.add('selected');
    row.setAttribute('aria-selected', 'true');
    if (parts.search.getAttribute('aria-activedescendant') !== row.id) parts.search.setAttribute('aria-activedescendant', row.id);
    if (reveal) row.scrollIntoView({ block: 'nearest' });
  }

  const selectedRow = () => (cursor ? parts.rows.querySelector(`[data-key="${CSS.escape(cursor)}"]`) : null);

  function move(by) {
    let all = [...parts.rows.querySelectorAll('[data-testid=role-row]:not([hidden])')];
    if (!all.length) return;
    const at = all.indexOf(selectedRow());
    if (at >= 0 && at + by >= all.length && drawMore()) all = [...parts.rows.querySelectorAll('[data-testid=role-row]:not([hidden])')];
    const to = at < 0 ? (by > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + by));
    select(all[to]);
  }

  function closeForm(refocus) {
    if (!form) return;
    const f = form;
    form = null;
    f.dropAsk?.();
    f.dropEsc();
    f.node.remove();
    if (refocus && f.fromSearch) parts.search.focus();
    else if (refocus) parts.rows.querySelector(`[data-key="${CSS.escape(f.accountId + '/' + f.roleName)}"] [data-action=${f.kind}]`)?.focus();
  }

  /** Removing the favourite being edited asks first, as everywhere: the form's buttons
   * give way to the question until it is answered (Keep and Escape keep it). */
  function askRemoval(ctx, profile, actions) {
    const f = form;
    const keep = () => {
      f.dropAsk?.(); f.dropAsk = null;
      ask.replaceWith(actions);
      actions.querySelector('[data-testid=favourite-remove]')?.focus();
    };
    const ask = removalConfirm(profile, {
      onKeep: keep,
      onRemove: async (ev) => {
        ev.currentTarget.disabled = true;
        try {
          await ctx.invoke('remove_favourite', { profile });
          f.dropAsk?.(); f.dropAsk = null;
          ctx.notify(`Removed ${profile} from your favourites, and its profile from the credentials file.`);
          if (form === f) closeForm(true);
        } catch (e) {
          ctx.showError(e);
          if (ask.isConnected) keep();
        }
      } });
    f.dropAsk = onEscape(keep);
    actions.replaceWith(ask);
    focusKeep(ask);
  }

  let opening = 0;         // the form last asked for: one asked for before it is not opened
  async function openForm(ctx, roleRow, kind, fromSearch = false) {
    const accountId = roleRow.closest('[data-account-id]').dataset.accountId;
    const roleName = roleRow.dataset.roleName;
    const account = ctx.S.accounts.accounts.find((a) => a.accountId === accountId);
    closeForm();
    const fav = kind === 'favourite';
    const editing = kind === 'edit' ? favOf.get(`${accountId}/${roleName}`) : null;
    const name = h('input', { type: 'text', class: 'mono', testid: 'profile-name', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 128 });
    // The name suggested is the core's, as the profiles it generates are named; without
    // it the form still opens, its name left to type.
    const asked = ++opening;
    name.value = editing ? editing.profile : await ctx.invoke('suggest_profile_name',
      { accountName: account?.accountName ?? '', accountId, roleName }).catch(() => '');
    if (asked !== opening || !roleRow.isConnected) return;
    // A favourite's name is what its renewals and tools use: changing it is removing it
    // and adding another.
    name.readOnly = !!editing;
    const region = submitOnEnter(h('input', { type: 'text', testid: 'profile-region', list: 'aws-regions', autocomplete: 'off', spellcheck: 'false', placeholder: 'none (use your default)' }));
    region.value = editing?.region || '';
    const cp = fav && h('input', { type: 'checkbox', testid: 'profile-credential-process' });
    // A favourite may then assume another role with the SSO role's credentials: asked for
    // only when wanted, its fields shown under the box that asks for them.
    const assume = fav && assumeRoleFields(null);
    const chain = fav && h('input', { type: 'checkbox', testid: 'profile-assume-role', 'aria-controls': 'assume-fields', 'aria-expanded': 'false' });
    if (fav) {
      assume.node.id = 'assume-fields';
      assume.node.hidden = true;
      chain.addEventListener('change', () => {
        assume.node.hidden = !chain.checked;
        chain.setAttribute('aria-expanded', String(chain.checked));
      });
    }
    const label = editing ? `Edit favourite ${editing.profile}` : fav ? `Add ${roleName} to favourites` : `Write profile for ${roleName}`;
    const node = h('form', { class: 'profile-form', testid: 'profile-form', 'data-kind': kind, novalidate: true, 'aria-label': label },
      field('Profile name', name),
      h('div', { class: 'row2' }, field('Region', region)),
      cp && field('Fetch credentials on demand (credential_process)', cp),
      chain && field('Then assume a role', chain, 'The profile then holds the credentials of an IAM role that this one may assume.'),
      assume && assume.node,
      formError(),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary small', testid: 'profile-submit', text: editing ? 'Save changes' : fav ? 'Add favourite' : 'Write profile' }),
        editing && h('button', { type: 'button', class: 'small subtle', testid: 'favourite-remove', text: 'Remove from favourites',
          onclick: (ev) => askRemoval(ctx, editing.profile, ev.currentTarget.parentElement) }),
        h('button', { type: 'button', class: 'small', testid: 'profile-cancel', text: 'Cancel', onclick: () => closeForm(true) })));
    node.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const profile = name.value.trim();
      const reg = region.value.trim() || null;
      try {
        if (editing) {
          await submitting(node, () => ctx.invoke('edit_favourite', { profile, change: { region: reg } }), ctx.showError);
          ctx.notify(`Saved ${profile}.`);
        } else if (fav) {
          let assumeRole = null;
          await submitting(node, () => {
            assumeRole = chain.checked ? assume.read() : null;
            return ctx.invoke('add_favourite', { favourite: {
              profile, accountId, accountName: account.accountName ?? null, roleName, region: reg, credentialProcess: cp.checked, assumeRole } });
          }, ctx.showError);
          const then = assumeRole ? ` assumes ${roleOfArn(assumeRole.roleArn).name} and` : '';
          ctx.notify(`Added ${profile} to your favourites; it${then} is kept fresh from now on.`);
        } else {
          const r = await submitting(node, () => ctx.invoke('write_profile', { request: { profile, accountId, roleName, region: reg } }), ctx.showError);
          ctx.notify(`Wrote profile ${r.profile} to ${ctx.S.app.credentialsFile}; valid until ${r.expiresAt ? clock(r.expiresAt) : '—'}.`);
        }
        closeForm(true);
      } catch { /* shown inline or in the banner */ }
    });
    form = { node, accountId, roleName, kind, fromSearch, dropEsc: onEscape(() => closeForm(true)) };
    roleRow.append(node);
    const first = editing ? region : name;
    first.focus();
    first.select();
    showWhole(node);
  }

  return {
    el,
    mount(ctx) { list = null; signedIn = null; rowsOf.clear(); mountParts(ctx); },
    unmount() { closeForm(); parts = null; el.replaceChildren(); },
    update(ctx) {
      const acc = ctx.S.accounts;
      if (acc?.updatedAt) live(parts.updated, acc.updatedAt, 'ago');
      else { delete parts.updated.dataset.fmt; parts.updated.textContent = ''; }
      progress(ctx);
      const now = ctx.signedIn();
      const inst = ctx.S.app.instance;
      const favs = ctx.S.app.favourites.filter((f) => inst && f.startUrl === inst.startUrl && f.ssoRegion === inst.region);
      const fk = JSON.stringify(favs.map((f) => [f.accountId, f.roleName, f.profile, f.region]));
      const favsChanged = fk !== favKey;
      if (favsChanged) {
        favKey = fk;
        favOf = new Map(favs.map((f) => [`${f.accountId}/${f.roleName}`, f]));
      }
      if (acc?.accounts !== list || now !== signedIn || favsChanged) {
        if (acc?.accounts !== list && acc?.accounts) buildIndex(acc.accounts);
        list = acc?.accounts;
        signedIn = now;
        renderList(ctx);
      }
    },
    progress,
    get lastMs() { return lastMs; },
    /** Puts the focus in the search box with its words selected, to type a new search. */
    focusSearch() { if (parts && !parts.tools.hidden) { parts.search.focus(); parts.search.select(); } },
  };
}
