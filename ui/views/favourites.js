import { h, field, keepFocus, onEscape, removalConfirm, focusKeep, assumeRoleFields, roleOfArn, formError, submitting, errorText, consoleChoices, browserFields, swatch, instanceName, showWhole } from '../util.js';

/** The console session lengths offered, in hours (AWS allows 15 minutes to 12 hours). */
const SESSION_HOURS = [1, 2, 4, 8, 12];
/** Why a favourite that assumes a role has no session length to choose: the core's rule. */
const CHAINED_SESSION = 'AWS lets no role assumed from another role choose its console session length; it lasts as long as the assumed role’s credentials, one hour at most.';
/** The page choice that asks for an address. */
const ADDRESS = ':address'; // no service's name holds a ':'

/** "4 hours", "1 hour", "90 minutes". */
function hours(seconds) {
  if (seconds % 3600) return `${Math.round(seconds / 60)} minutes`;
  const n = seconds / 3600;
  return `${n} ${n === 1 ? 'hour' : 'hours'}`;
}

export default function favouritesView(el) {
  let confirming = null; // {profile, dropEsc}
  let key = null;
  const busy = new Set(); // "renew:profile" while our call is pending
  // Renewals asked for here, until their outcome shows: profile → {writtenAt, error} when
  // asked, and whether the renewal has been seen under way.
  const asked = new Map();
  const detailsOpen = new Set(); // profiles whose Details are open, across redraws
  // The form of the role a favourite assumes, while open: {profile, node, dropEsc}. Its
  // node is kept across redraws, so what is typed in it stays.
  let assuming = null;
  // The form that adds one of a favourite's EKS clusters to the kubeconfig, while open:
  // {profile, node, dropEsc}, kept across redraws as `assuming` is.
  let kube = null;
  // What removing the favourite being asked about would take from the kubeconfig:
  // {profile, count, path, remove} once known (the question offers it, ticked).
  let kubeEntries = null;
  // The form of how a favourite's console opens, while open: {profile, node, dropEsc},
  // kept across redraws as `kube` is.
  let consoleForm = null;
  let choices = null;      // the console's choices, once known
  let askedChoices = false;
  const pageOf = new Map(); // profile → the service chosen beside its "Open console"

  /** The account of `id` as the account list names it, when it does. */
  const accountName = (ctx, id) => ctx.S.accounts?.accounts.find((a) => a.accountId === id)?.accountName ?? null;

  /** "Deploy in payments-prod (210987654321)": the role a favourite assumes. */
  function assumedText(ctx, arn) {
    const r = roleOfArn(arn);
    const n = accountName(ctx, r.accountId);
    return { role: r.name, account: n ? `${n} (${r.accountId})` : r.accountId, name: n, accountId: r.accountId };
  }

  function closeAssume(ctx, refocus) {
    if (!assuming) return;
    const p = assuming.profile;
    assuming.dropEsc();
    assuming = null;
    key = null;
    update(ctx);
    if (refocus) el.querySelector(`[data-key="${CSS.escape(p)}"] [data-testid=assume-role-open]`)?.focus();
  }

  /** The small form under a favourite's row: the role it assumes, to change or stop. */
  function openAssume(ctx, f) {
    if (assuming) closeAssume(ctx, false);
    const fields = assumeRoleFields(f.assumeRole);
    const profile = f.profile;
    const stop = f.assumeRole && h('button', { type: 'button', class: 'small subtle', testid: 'assume-role-stop', text: 'Stop assuming' });
    const node = h('form', { class: 'profile-form assume-form', testid: 'assume-role-form', novalidate: true,
      'aria-label': f.assumeRole ? `Change the role ${profile} assumes` : `A role for ${profile} to assume` },
      h('p', { class: 'small muted', text: `With the credentials of ${f.roleName}, ${profile} then assumes:` }),
      fields.node,
      formError(),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary small', testid: 'assume-role-save', text: f.assumeRole ? 'Save changes' : 'Assume this role' }),
        stop,
        h('button', { type: 'button', class: 'small', testid: 'assume-role-cancel', text: 'Cancel', onclick: () => closeAssume(ctx, true) })));
    node.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      let assumeRole = null;
      try {
        await submitting(node, () => {
          assumeRole = fields.read();
          return ctx.invoke('edit_favourite', { profile, change: { assumeRole } });
        }, ctx.showError);
      } catch { return; /* shown in the form or in the banner */ }
      const t = assumedText(ctx, assumeRole.roleArn);
      if (assuming?.node === node) closeAssume(ctx, true);
      ctx.notify(`${profile} now assumes ${t.role} in ${t.account}; its profile is rewritten.`);
    });
    stop?.addEventListener('click', async () => {
      stop.disabled = true;
      try {
        await submitting(node, () => ctx.invoke('edit_favourite', { profile, change: { assumeRole: null } }), ctx.showError);
      } catch { stop.disabled = false; return; }
      if (assuming?.node === node) closeAssume(ctx, true);
      ctx.notify(`${profile} no longer assumes a role: its profile holds the credentials of ${f.roleName}.`);
    });
    assuming = { profile, node, dropEsc: onEscape(() => closeAssume(ctx, true)) };
    key = null;
    update(ctx);
    fields.first.focus();
    showWhole(node);
  }

  function closeKube(ctx, refocus) {
    if (!kube) return;
    const p = kube.profile;
    kube.dropEsc();
    kube = null;
    key = null;
    update(ctx);
    if (refocus) el.querySelector(`[data-key="${CSS.escape(p)}"] [data-testid=kube-open]`)?.focus();
  }

  /** The small form under a favourite's row: one of the EKS clusters its role sees, added
   * to the kubeconfig with a user that runs `aws-sso-auth eks token`. */
  function openKube(ctx, f) {
    if (kube) closeKube(ctx, false);
    if (assuming) closeAssume(ctx, false);
    const profile = f.profile;
    const attrs = { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false' };
    const region = h('input', { ...attrs, testid: 'kube-region', placeholder: f.region || '' });
    region.value = f.region || '';
    const select = h('select', { testid: 'kube-cluster', disabled: true });
    const alias = h('input', { ...attrs, testid: 'kube-alias', maxlength: 253 });
    const said = h('p', { class: 'small muted', testid: 'kube-said', 'aria-live': 'polite' });
    const look = h('button', { type: 'button', class: 'small', testid: 'kube-look', text: 'List clusters' });
    const add = h('button', { type: 'submit', class: 'primary small', testid: 'kube-add', text: 'Add to kubeconfig', disabled: true });
    const node = h('form', { class: 'profile-form kube-form', testid: 'kube-form', novalidate: true,
      'aria-label': `Add a cluster ${profile} reaches to your kubeconfig` },
      h('p', { class: 'small muted', text: `kubectl then gets its tokens from ${profile}'s role, signed here.` }),
      h('div', { class: 'row2' }, field('Region', region), h('div', { class: 'field look' }, look)),
      said,
      field('Cluster', select),
      field('Context name (optional)', alias),
      formError(),
      h('div', { class: 'actions' }, add,
        h('button', { type: 'button', class: 'small', testid: 'kube-cancel', text: 'Cancel', onclick: () => closeKube(ctx, true) })));
    const updatePlaceholder = () => { alias.placeholder = select.value ? `${profile}@${select.value}` : ''; };
    select.addEventListener('change', updatePlaceholder);
    let asking = 0;
    async function list() {
      const n = ++asking;
      const r = region.value.trim();
      select.replaceChildren();
      select.disabled = true;
      add.disabled = true;
      look.disabled = true;
      said.textContent = `Looking for clusters in ${r || 'the favourite’s region'}…`;
      let found = null;
      try {
        found = await ctx.invoke('eks_clusters', { profile, region: r || null });
      } catch (e) {
        if (n !== asking) return;
        said.textContent = errorText(e);
        look.disabled = false;
        return;
      }
      if (n !== asking) return;
      look.disabled = false;
      // An empty region means the favourite's, else its portal's: say which it was.
      if (!r) region.placeholder = found.region;
      // Names from the service: option text, never markup.
      select.replaceChildren(...found.clusters.map((c) => h('option', { value: c, text: c })));
      select.disabled = !found.clusters.length;
      add.disabled = !found.clusters.length;
      said.textContent = found.clusters.length
        ? `${found.clusters.length} ${found.clusters.length === 1 ? 'cluster' : 'clusters'} in ${found.region}.`
        : `${profile}’s role sees no EKS cluster in ${found.region}.`;
      updatePlaceholder();
    }
    look.addEventListener('click', list);
    region.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); list(); } });
    node.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!select.value) return;
      const request = { profile, cluster: select.value, region: region.value.trim() || null, alias: alias.value.trim() || null };
      let added;
      try {
        added = await submitting(node, () => ctx.invoke('add_to_kubeconfig', { request }), ctx.showError);
      } catch { return; /* shown in the form or in the banner */ }
      if (kube?.node === node) closeKube(ctx, true);
      const where = added.path;
      if (!added.changed) ctx.notify(`Context ${added.context} was already in ${where}; nothing changed.`);
      else if (added.currentContextSet) ctx.notify(`Added context ${added.context} to ${where}; kubectl now uses it.`);
      else ctx.notify(`Added context ${added.context} to ${where}. Switch to it with: kubectl config use-context ${added.context}`);
    });
    kube = { profile, node, dropEsc: onEscape(() => closeKube(ctx, true)) };
    key = null;
    update(ctx);
    // The cluster list is disabled until it is read: the region is where to start.
    region.focus();
    showWhole(node);
    list();
  }

  function closeConsole(ctx, refocus) {
    if (!consoleForm) return;
    const p = consoleForm.profile;
    consoleForm.dropEsc();
    consoleForm = null;
    key = null;
    update(ctx);
    if (refocus) el.querySelector(`[data-key="${CSS.escape(p)}"] [data-testid=console-open]`)?.focus();
  }

  /** The page a favourite's console opens on, in words: "Home", "S3", "its address". */
  function pageName(d) {
    if (!d) return 'Home';
    if (d.url) return 'its saved address';
    return choices?.services.find((s) => s.name === d.service)?.label ?? d.service;
  }

  /** The small form under a favourite's row: the page its console opens on, the session's
   * length, the browser and the colour. What is typed stays until it is saved or given up. */
  async function openConsoleForm(ctx, f) {
    try { choices = await consoleChoices(ctx.invoke); } catch (e) { ctx.showError(e); return; }
    f = ctx.S.app.favourites.find((x) => x.profile === f.profile);
    if (!f) return;
    if (consoleForm) closeConsole(ctx, false);
    const profile = f.profile;
    const now = f.console?.settings ?? {};
    const chained = !!f.assumeRole;
    const uid = `c${Math.random().toString(36).slice(2, 8)}`;

    // The page: home, a common service, or a console address.
    const saved = now.destination;
    const page = h('select', { testid: 'console-page' },
      h('option', { value: '', text: 'Home' }),
      choices.services.map((s) => h('option', { value: s.name, text: s.label })),
      saved?.service && !choices.services.some((s) => s.name === saved.service) && h('option', { value: saved.service, text: saved.service }),
      h('option', { value: ADDRESS, text: 'Address…' }));
    page.value = saved?.url ? ADDRESS : saved?.service ?? '';
    const address = h('input', { type: 'url', class: 'mono', testid: 'console-address', autocomplete: 'off', spellcheck: 'false',
      placeholder: `https://${f.region || ctx.S.app.instance?.region || 'us-east-1'}.console.aws.amazon.com/…` });
    address.value = saved?.url ?? '';
    const addressField = field('Console address', address, 'An https address of the AWS console, as its address bar shows it.');
    const syncPage = () => { addressField.hidden = page.value !== ADDRESS; };
    page.addEventListener('change', () => { syncPage(); if (page.value === ADDRESS) address.focus(); });
    syncPage();

    // The session's length: none to choose for a role assumed from another.
    const length = h('select', { testid: 'console-session', disabled: chained },
      h('option', { value: '', text: 'The console’s default' }),
      SESSION_HOURS.map((n) => h('option', { value: String(n * 3600), text: hours(n * 3600) })),
      now.sessionSeconds && !SESSION_HOURS.includes(now.sessionSeconds / 3600) && h('option', { value: String(now.sessionSeconds), text: hours(now.sessionSeconds) }));
    length.value = now.sessionSeconds ? String(now.sessionSeconds) : '';
    const lengthField = field('Session length', length, chained ? CHAINED_SESSION : null);
    if (chained) lengthField.querySelector('.hint').dataset.testid = 'console-session-why';

    // The browser: as the access portal says, or its own.
    const portal = ctx.S.app.instances.find((i) => i.startUrl === f.startUrl && i.region === f.ssoRegion);
    const portalBrowser = portal?.browser ? choices.browsers.find((b) => b.name === portal.browser.kind)?.label : null;
    const browser = browserFields(choices, now.browser, {
      inherit: `${portal ? instanceName(portal) : 'Its access portal'}’s: ${portalBrowser || 'the default browser'}`,
      containerName: profile,
    });

    // The colour: none, one of the console's nine, or the account's own.
    const colour = now.colourFromAccount ? 'account' : now.colour ?? '';
    const radio = (value, testid, ...label) => {
      const input = h('input', { type: 'radio', name: `${uid}-colour`, value, testid, checked: colour === value });
      return h('label', { class: 'colour-choice' }, input, ...label);
    };
    const colours = h('fieldset', { class: 'colours', testid: 'console-colours' },
      h('legend', { text: 'Colour' }),
      h('div', { class: 'colour-list' },
        radio('', 'console-colour-none', h('span', { class: 'swatch none', 'aria-hidden': 'true' }), 'None'),
        choices.colours.map((c) => radio(c.name, `console-colour-${c.name}`, swatch(c.hex, c.label, { role: null, 'aria-label': null, title: null, 'aria-hidden': 'true' }), c.label)),
        radio('account', 'console-colour-account',
          now.colourFromAccount && f.console.colourHex ? swatch(f.console.colourHex, f.console.colourLabel, { role: null, 'aria-label': null, title: null, 'aria-hidden': 'true' }) : h('span', { class: 'swatch account', 'aria-hidden': 'true' }),
          now.colourFromAccount && f.console.colourLabel ? `From the account (${f.console.colourLabel})` : 'From the account')),
      h('p', { class: 'hint', text: 'Shown beside its name here and in the tray menu, and given to its Firefox container. The account’s own is the one the console shows, read from AWS.' }));

    const node = h('form', { class: 'profile-form console-form', testid: 'console-form', novalidate: true,
      'aria-label': `How ${profile}’s console opens` },
      h('div', { class: 'row2' }, field('Page', page), lengthField),
      addressField,
      browser.node,
      colours,
      formError(),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary small', testid: 'console-save', text: 'Save' }),
        h('button', { type: 'button', class: 'small', testid: 'console-cancel', text: 'Cancel', onclick: () => closeConsole(ctx, true) })));
    node.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const msg = node.querySelector('.form-error');
      const save = node.querySelector('[data-testid=console-save]');
      msg.hidden = true;
      const picked = node.querySelector(`input[name="${uid}-colour"]:checked`)?.value ?? '';
      const destination = page.value === ADDRESS
        ? (address.value.trim() ? { url: address.value.trim() } : null)
        : page.value ? { service: page.value } : null;
      if (page.value === ADDRESS && !destination) {
        msg.textContent = 'Enter the console address to open, or choose another page.';
        msg.hidden = false;
        address.focus();
        return;
      }
      const settings = {
        ...now, // keeps what this form does not know about
        destination,
        sessionSeconds: !chained && length.value ? Number(length.value) : null,
        browser: browser.read(),
        colour: picked === 'account' ? now.colour ?? null : picked || null,
        colourFromAccount: picked === 'account',
      };
      save.disabled = true;
      let saved;
      try {
        saved = await ctx.invoke('set_favourite_console', { profile, console: settings });
      } catch (e) {
        // The core's sentence, in the form: what was typed stays, to be changed.
        if (node.isConnected) {
          msg.textContent = errorText(e);
          msg.hidden = false;
          msg.scrollIntoView({ block: 'nearest' });
        }
        if (e?.code === 'signInNeeded') ctx.showError(e);
        return;
      } finally {
        save.disabled = false;
      }
      if (consoleForm?.node === node) closeConsole(ctx, true);
      const s = saved.settings;
      const said = [pageName(s.destination)];
      if (s.sessionSeconds) said.push(hours(s.sessionSeconds));
      if (s.browser) said.push(choices.browsers.find((b) => b.name === s.browser.kind)?.label ?? s.browser.kind);
      if (saved.colourLabel) said.push(saved.colourLabel);
      ctx.notify(`Saved how ${profile}’s console opens: ${said.join(' · ')}.`);
    });
    consoleForm = { profile, node, dropEsc: onEscape(() => closeConsole(ctx, true)) };
    key = null;
    update(ctx);
    page.focus();
    showWhole(node);
  }

  /** Opens `f`'s console, on the page chosen beside the button (its own when none). */
  async function openConsole(ctx, f) {
    const service = pageOf.get(f.profile) || null;
    const label = service ? choices?.services.find((s) => s.name === service)?.label ?? service : null;
    busy.add(`console:${f.profile}`);
    key = null; update(ctx);
    try {
      await ctx.invoke('open_console', { profile: f.profile, service });
      ctx.notify(`Opened the AWS console as ${f.profile}${label ? `, on ${label}` : ''}.`);
    } catch (e) { ctx.showError(e); }
    busy.delete(`console:${f.profile}`);
    key = null; update(ctx);
  }

  /** Asks the backend what removing `profile` would take from the kubeconfig, for the
   * question; the question is shown at once and gains the offer when the answer comes. */
  async function askKubeEntries(ctx, profile) {
    kubeEntries = null;
    let r;
    try { r = await ctx.invoke('kubeconfig_entries', { profile }); } catch { return; /* the question stays as it is */ }
    if (confirming?.profile !== profile) return;
    const count = r.entries.contexts.length;
    if (!count) return;
    kubeEntries = { profile, count, path: r.path, remove: true };
    key = null;
    update(ctx);
  }

  function stopConfirm(ctx, refocus) {
    if (!confirming) return;
    const p = confirming.profile;
    confirming.dropEsc();
    confirming = null;
    key = null;
    update(ctx);
    if (refocus) el.querySelector(`[data-key="${CSS.escape(p)}"] [data-testid=remove-favourite]`)?.focus();
  }

  async function act(ctx, what, profile, cmd, args = { profile }) {
    if (what === 'renew') {
      const f = ctx.S.app.favourites.find((x) => x.profile === profile);
      asked.set(profile, { writtenAt: f?.writtenAt ?? 0, error: f?.error ?? null, seen: false });
    }
    busy.add(`${what}:${profile}`);
    key = null; update(ctx);
    try { await ctx.invoke(cmd, args); } catch (e) { asked.delete(profile); ctx.showError(e); }
    busy.delete(`${what}:${profile}`);
    key = null; update(ctx);
  }

  /** The offer in the question before a removal: the favourite's kubectl contexts go too
   * (ticked), or stay, broken, for the person to remove. */
  function kubeOffer(ctx, entries) {
    const box = h('input', { type: 'checkbox', testid: 'remove-kubeconfig', checked: entries.remove });
    box.addEventListener('change', () => { entries.remove = box.checked; });
    const n = entries.count;
    return field(`Also remove its ${n} kubectl ${n === 1 ? 'context' : 'contexts'} from ${entries.path}`, box);
  }

  function row(ctx, f) {
    // Each name in its own isolate: nothing in one can reorder the id beside it.
    const acct = f.accountName
      ? [h('bdi', { text: f.accountName }), ' (', h('bdi', { class: 'mono', text: f.accountId }), ')']
      : h('bdi', { class: 'mono', text: f.accountId });
    // The line both faces share, made by the backend at its clock's tick.
    const line = f.status;
    const status = h('div', { class: 'status', 'data-tone': line.tone, testid: 'favourite-status' },
      h('p', { text: line.text }),
      line.details && h('details', { testid: 'favourite-details', open: detailsOpen.has(f.profile),
        ontoggle: (ev) => { if (ev.target.open) detailsOpen.add(f.profile); else detailsOpen.delete(f.profile); } },
        h('summary', { text: 'Details' }), h('p', { class: 'small', text: line.details })));
    const renewing = f.renewing || busy.has(`renew:${f.profile}`);
    // Without a session nothing can be renewed: the status line says to sign in.
    const needsSession = f.status.next === 'signIn';
    const isConfirming = confirming?.profile === f.profile;
    // The role the SSO role's credentials then assume: its name and account, the whole
    // ARN on hovering it (and in the form that changes it).
    const t = f.assumeRole && assumedText(ctx, f.assumeRole.roleArn);
    const assumes = t && h('p', { class: 'small chain', testid: 'favourite-assumes', title: f.assumeRole.roleArn },
      h('span', { class: 'muted', text: 'then assumes ' }), h('bdi', { class: 'chain-role', text: t.role }), h('span', { class: 'muted', text: ' in ' }),
      t.name ? [h('bdi', { text: t.name }), ' (', h('bdi', { class: 'mono', text: t.accountId }), ')'] : h('bdi', { class: 'mono', text: t.accountId }));
    const open = assuming?.profile === f.profile;
    const actions = isConfirming
      ? removalConfirm(f.profile, {
        onRemove: () => {
          const alsoKube = kubeEntries?.profile === f.profile && kubeEntries.remove;
          confirming.dropEsc(); confirming = null; kubeEntries = null;
          act(ctx, 'remove', f.profile, 'remove_favourite', { profile: f.profile, kubeconfig: alsoKube });
        },
        onKeep: () => stopConfirm(ctx, true),
        extra: kubeEntries?.profile === f.profile && kubeOffer(ctx, kubeEntries) })
      : h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', testid: 'renew-now', text: 'Renew now', disabled: renewing || needsSession,
          title: needsSession ? 'Sign in first: renewing needs a session.' : null,
          onclick: () => act(ctx, 'renew', f.profile, 'renew_now') }),
        h('span', { class: 'console-pick' },
          h('button', { type: 'button', class: 'small', testid: 'open-console', text: 'Open console',
            'aria-busy': busy.has(`console:${f.profile}`) ? 'true' : null,
            onclick: () => { if (!busy.has(`console:${f.profile}`)) openConsole(ctx, f); } }),
          pagePicker(f)),
        h('button', { type: 'button', class: 'small', testid: 'console-open', 'aria-expanded': String(consoleForm?.profile === f.profile),
          text: 'Console…', title: 'The page, session length, browser and colour of this favourite’s console',
          onclick: () => (consoleForm?.profile === f.profile ? closeConsole(ctx, true) : openConsoleForm(ctx, f)) }),
        h('button', { type: 'button', class: 'small', testid: 'kube-open', 'aria-expanded': String(kube?.profile === f.profile),
          text: 'Add to kubeconfig…', title: 'Add one of the EKS clusters this role reaches to your kubeconfig',
          onclick: () => (kube?.profile === f.profile ? closeKube(ctx, true) : openKube(ctx, f)) }),
        h('button', { type: 'button', class: 'small', testid: 'assume-role-open', 'aria-expanded': String(open),
          text: f.assumeRole ? 'Change assumed role…' : 'Assume a role…',
          onclick: () => (open ? closeAssume(ctx, true) : openAssume(ctx, f)) }),
        h('button', { type: 'button', class: 'small subtle', testid: 'remove-favourite', text: 'Remove', disabled: busy.has(`remove:${f.profile}`),
          onclick: () => {
            confirming?.dropEsc();
            confirming = { profile: f.profile, dropEsc: onEscape(() => stopConfirm(ctx, true)) };
            key = null; update(ctx);
            askKubeEntries(ctx, f.profile);
            focusKeep(el.querySelector(`[data-key="${CSS.escape(f.profile)}"]`));
          } }));
    const tint = f.console?.colourHex && swatch(f.console.colourHex, f.console.colourLabel, { testid: 'favourite-colour' });
    return h('li', { class: 'fav', testid: 'favourite-row', 'data-profile': f.profile, 'data-key': f.profile },
      h('div', { class: 'fav-head' },
        tint,
        h('h3', { class: 'mono', text: f.profile }),
        f.credentialProcess && h('span', { class: 'tag', title: 'credential_process profile', text: 'on demand' })),
      h('p', { class: 'muted small' }, acct, ' · ', h('bdi', { text: f.roleName }), ' · ', f.region || 'no region'),
      assumes,
      status,
      actions,
      assuming?.profile === f.profile && assuming.node,
      kube?.profile === f.profile && kube.node,
      consoleForm?.profile === f.profile && consoleForm.node);
  }

  /** The page beside a favourite's "Open console": its own (as saved), or a common
   * service's. Its choice is kept across redraws. */
  function pagePicker(f) {
    const own = f.console?.settings?.destination;
    const chosen = pageOf.get(f.profile) ?? '';
    const services = (choices?.services ?? []).filter((s) => s.name !== own?.service);
    const sel = h('select', { class: 'page-pick', testid: 'open-console-page', 'aria-label': `Console page for ${f.profile}` },
      h('option', { value: '', text: pageName(own), selected: !chosen }),
      services.map((s) => h('option', { value: s.name, text: s.label, selected: s.name === chosen })));
    sel.addEventListener('change', () => { if (sel.value) pageOf.set(f.profile, sel.value); else pageOf.delete(f.profile); });
    return sel;
  }

  /** A renewal asked for here that has now written new keys, or failed, is answered. */
  function answer(ctx, favs) {
    for (const [profile, before] of asked) {
      const f = favs.find((x) => x.profile === profile);
      if (!f) { asked.delete(profile); continue; }
      if (f.renewing) before.seen = true;
      if (f.renewing || busy.has(`renew:${profile}`)) continue;
      if ((f.writtenAt ?? 0) > before.writtenAt) {
        asked.delete(profile);
        ctx.notify(`Renewed ${profile}: ${f.status.text}.`, { about: { profile } });
      } else if (f.status.next === 'signIn') {
        // The session ended first: this click is answered now, with the way on.
        asked.delete(profile);
        ctx.showError({ code: 'signInNeeded', message: `Profile ${profile} was not renewed: the session ended. Sign in, then try again.` });
      // Failed (a failure from before this click is not its answer): the row says so, and
      // a later renewal is not an answer to this click.
      } else if (f.error && (before.seen || f.error !== before.error)) asked.delete(profile);
    }
  }

  /** Profiles written once ("Write profile now"): listed, so none is forgotten in the
   * credentials file, and removable. */
  function oneOff(ctx, list) {
    if (!list.length) return [];
    return [h('section', { class: 'one-off', testid: 'one-off-profiles', 'aria-labelledby': 'one-off-h' },
      h('h3', { id: 'one-off-h', text: `Written once, not kept fresh (${list.length})` }),
      h('ul', { class: 'favs' }, list.map((p) => h('li', { class: 'fav', testid: 'one-off-row', 'data-profile': p.profile, 'data-key': `once:${p.profile}` },
        h('div', { class: 'fav-head' }, h('h3', { class: 'mono', text: p.profile })),
        h('div', { class: 'status', 'data-tone': p.status.tone, testid: 'one-off-status' }, h('p', { text: p.status.text })),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'small subtle', testid: 'remove-profile', text: 'Remove from the credentials file',
            disabled: busy.has(`forget:${p.profile}`),
            onclick: () => act(ctx, 'forget', p.profile, 'remove_profile') }))))))];
  }

  /** Commands served credentials (`aws-sso-auth exec`), oldest first as the backend
   * lists them: a new one comes last, and one that ended stays where it was, greyed,
   * until its command exits. Their names came from outside: text, each in its own
   * isolate, cut with an ellipsis (whole on hovering it). */
  function commands(ctx, list, heading) {
    if (!list.length) return [];
    return [h('section', { class: 'exec', testid: 'exec-commands', 'aria-labelledby': 'exec-h' },
      h('h3', { id: 'exec-h', testid: 'exec-heading', text: heading }),
      h('ul', { class: 'favs' }, list.map((c) => {
        const target = c.favourite != null
          ? h('p', { class: 'muted small cut', testid: 'exec-target', title: `profile ${c.favourite} · ${c.role}` },
            'profile ', h('bdi', { class: 'mono', text: c.favourite }))
          : h('p', { class: 'muted small cut', testid: 'exec-target', title: c.role }, h('bdi', { text: c.role }));
        return h('li', { class: c.ended ? 'fav exec-row ended' : 'fav exec-row', testid: 'exec-row', 'data-key': `exec:${c.id}`,
          'data-exec-id': String(c.id), 'data-ended': c.ended ? 'true' : null },
          h('div', { class: 'exec-head' },
            h('h3', { class: 'mono cut', testid: 'exec-program', title: c.program }, h('bdi', { text: c.program })),
            c.ended
              ? h('span', { class: 'tag', testid: 'exec-ended-tag', text: 'ended' })
              : h('button', { type: 'button', class: 'small subtle', testid: 'exec-stop', text: 'Stop',
                title: 'Stop serving credentials to this command: its next request is refused.',
                disabled: busy.has(`stop:${c.id}`),
                onclick: () => act(ctx, 'stop', c.id, 'stop_exec_session', { id: c.id }) })),
          target,
          h('p', { class: 'muted small', testid: 'exec-detail', text: c.detail }),
          c.ended && h('p', { class: 'small exec-why', testid: 'exec-ended', text: c.ended }));
      })))];
  }

  function update(ctx) {
    const favs = ctx.S.app.favourites;
    const once = ctx.S.app.oneOff;
    const served = ctx.S.app.exec ?? [];
    answer(ctx, favs);
    // The names of the accounts the favourites' assumed roles are in, as the list has them.
    const named = favs.map((f) => (f.assumeRole ? accountName(ctx, roleOfArn(f.assumeRole.roleArn).accountId) : null));
    const k = JSON.stringify([favs, once, named, served, kubeEntries, !!choices]) + [...busy].join() + (confirming?.profile || '') + '|' + (assuming?.profile || '') + '|' + (kube?.profile || '') + '|' + (consoleForm?.profile || '');
    if (k === key) return;
    key = k;
    if (confirming && !favs.some((f) => f.profile === confirming.profile)) { confirming.dropEsc(); confirming = null; }
    if (assuming && !favs.some((f) => f.profile === assuming.profile)) { assuming.dropEsc(); assuming = null; }
    if (kube && !favs.some((f) => f.profile === kube.profile)) { kube.dropEsc(); kube = null; }
    if (consoleForm && !favs.some((f) => f.profile === consoleForm.profile)) { consoleForm.dropEsc(); consoleForm = null; }
    // The service list beside "Open console" comes once the choices are known.
    if (!choices && !askedChoices) {
      askedChoices = true;
      consoleChoices(ctx.invoke).then((c) => { choices = c; key = null; if (!el.hidden) update(ctx); }, () => { askedChoices = false; });
    }
    // A redraw moves the open form into the new row: the field being typed in keeps the
    // focus, and its caret.
    const form = [assuming?.node, kube?.node, consoleForm?.node].find((n) => n?.contains(document.activeElement));
    const typing = form ? document.activeElement : null;
    const caret = typing && typing.type === 'text' ? [typing.selectionStart, typing.selectionEnd] : null;
    keepFocus(el, () => {
      if (!favs.length) {
        el.replaceChildren(h('h2', { tabindex: '-1', text: 'Favourites' }),
          h('div', { class: 'empty', testid: 'favourites-empty' },
            h('p', { text: 'No favourites yet.' }),
            h('p', { class: 'muted', text: 'In Accounts, find a role and choose “Add to favourites”: its profile is then written to your credentials file and kept fresh while you are signed in.' }),
            h('button', { type: 'button', class: 'primary', text: 'Go to Accounts', onclick: () => ctx.show('accounts') })),
          ...oneOff(ctx, once),
          ...commands(ctx, served, ctx.S.app.serving));
        return;
      }
      el.replaceChildren(h('h2', { tabindex: '-1', text: `Favourites (${favs.length})` }),
        h('ul', { class: 'favs' }, favs.map((f) => row(ctx, f))),
        ...oneOff(ctx, once),
        ...commands(ctx, served, ctx.S.app.serving));
    });
    if (typing && typing.isConnected && document.activeElement !== typing) {
      typing.focus();
      if (caret) typing.setSelectionRange(...caret);
    }
  }

  return {
    el,
    mount() { key = null; },
    unmount() { confirming?.dropEsc(); confirming = null; assuming?.dropEsc(); assuming = null; kube?.dropEsc(); kube = null; consoleForm?.dropEsc(); consoleForm = null; kubeEntries = null; el.replaceChildren(); },
    update,
  };
}
