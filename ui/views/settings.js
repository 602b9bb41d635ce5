import { h, field, instanceName, instanceForm, keepFocus, submitting, formError, onEscape, consoleChoices, browserFields, errorText } from '../util.js';
import { cliProfilesCard } from './cliprofiles.js';
import { awsConfigCard } from './awsconfig.js';

export default function settingsView(el) {
  let p = null;          // DOM parts
  let cli = null;        // the AWS CLI profiles card
  let aws = null;        // the "Import from ~/.aws/config" card
  let instKey = null;
  let removing = null;   // key (start URL and region) of the instance awaiting confirmation
  let addForm = null;    // {node, dropEsc}
  let dirty = false;     // preferences edited but not saved
  let savePrefs = null;  // saves what the form says; called on leaving the tab too
  let savedTimer;
  let choices = null;    // the console's choices, once known
  // An access portal's console browser as changed here and not saved (the core refused
  // it): key → {browser, error}. What was chosen and typed stays until it is saved.
  const browserDrafts = new Map();

  function closeAdd(refocus) {
    if (!addForm) return;
    addForm.dropEsc();
    addForm.node.remove();
    addForm = null;
    p.addBtn.hidden = false;
    if (refocus) p.addBtn.focus();
  }

  function openAdd(ctx) {
    p.addBtn.hidden = true;
    const node = instanceForm({
      submitLabel: 'Add and make current',
      onCancel: () => closeAdd(true),
      onSubmit: (f, instance) => submitting(f, () => ctx.invoke('add_instance', { instance }), ctx.showError)
        .then(() => { closeAdd(true); ctx.notify(`Added ${instanceName(instance)}; it is now the current access portal.`); }, () => {}),
    });
    addForm = { node, dropEsc: onEscape(() => closeAdd(true)) };
    p.addBtn.after(node);
    node.querySelector('input').focus();
  }

  function renderInstances(ctx) {
    const { instance, instances } = ctx.S.app;
    const keyOf = (i) => `${i.startUrl}|${i.region}`;
    const k = JSON.stringify([instance && keyOf(instance), instances, removing, !!choices, [...browserDrafts]]);
    if (k === instKey) return;
    instKey = k;
    const call = (cmd, i) => ctx.invoke(cmd, { instance: { startUrl: i.startUrl, region: i.region } }).catch(ctx.showError);
    keepFocus(p.instList, () => p.instList.replaceChildren(...(instances.length ? instances.map((i) => {
      const current = !!instance && keyOf(instance) === keyOf(i);
      const confirm = removing === keyOf(i);
      return h('li', { class: 'instance', testid: 'instance-row', 'data-start-url': i.startUrl, 'data-key': keyOf(i) },
        h('div', { class: 'inst-head' },
          h('strong', { text: instanceName(i) }),
          current && h('span', { class: 'tag ok', testid: 'instance-current', text: 'current' })),
        h('p', { class: 'muted small mono', text: `${i.startUrl} · ${i.region}` }),
        choices && portalBrowser(ctx, i, keyOf(i)),
        confirm
          ? h('div', { class: 'actions confirm' },
            h('span', { class: 'small', text: 'Remove this access portal and sign out of it?' }),
            h('button', { type: 'button', class: 'danger small', testid: 'instance-remove-confirm', text: 'Remove',
              onclick: () => { removing = null; call('remove_instance', i); } }),
            h('button', { type: 'button', class: 'small', testid: 'instance-remove-cancel', text: 'Keep',
              onclick: () => { removing = null; renderInstances(ctx); } }))
          : h('div', { class: 'actions' },
            !current && h('button', { type: 'button', class: 'small', testid: 'instance-make-current', text: 'Make current',
              onclick: () => call('set_default_instance', i) }),
            h('button', { type: 'button', class: 'small subtle', testid: 'instance-remove', text: 'Remove',
              onclick: () => {
                removing = keyOf(i);
                renderInstances(ctx);
                p.instList.querySelector(`[data-key="${CSS.escape(keyOf(i))}"] [data-testid=instance-remove-cancel]`)?.focus();
              } })));
    }) : [h('li', { class: 'muted', text: 'No access portal yet.' })])));
  }

  /** The browser the console of an access portal's roles opens in, unless a favourite
   * chooses its own: saved as soon as it is changed (a name when it is left, or on Enter),
   * as every setting is. */
  function portalBrowser(ctx, i, key) {
    const draft = browserDrafts.get(key);
    const fields = browserFields(choices, draft ? draft.browser : i.browser);
    const msg = h('p', { class: 'form-error', role: 'alert', testid: 'portal-browser-error', hidden: !draft?.error, text: draft?.error || '' });
    const node = h('fieldset', { class: 'portal-browser', testid: 'portal-browser' },
      h('legend', { text: 'Console browser' }),
      h('p', { class: 'hint', text: 'The AWS console of this access portal’s roles opens here, unless a favourite chooses its own browser. A Firefox container is named after the favourite, or after the account and role.' }),
      fields.node,
      msg);
    let asked = 0;
    const save = async () => {
      const browser = fields.read();
      const n = ++asked;
      try {
        await ctx.invoke('set_portal_browser', { instance: { startUrl: i.startUrl, region: i.region }, browser });
      } catch (e) {
        if (n !== asked) return;
        browserDrafts.set(key, { browser, error: errorText(e) });
        msg.textContent = errorText(e);
        msg.hidden = false;
        return;
      }
      if (n !== asked) return;
      const had = browserDrafts.delete(key);
      msg.hidden = true;
      if (had) renderInstances(ctx);
      const label = choices.browsers.find((b) => b.name === (browser?.kind || 'default'))?.label ?? browser.kind;
      const extra = [browser?.profile && `profile ${browser.profile}`, browser?.container && 'in a container'].filter(Boolean);
      ctx.notify(`The AWS console of ${instanceName(i)}’s roles now opens in ${label}${extra.length ? ` (${extra.join(', ')})` : ''}.`);
    };
    node.addEventListener('change', save);
    node.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && ev.target.tagName === 'INPUT') { ev.preventDefault(); save(); }
    });
    return node;
  }

  function fillPrefs(prefs, fixed) {
    // Fixed for this run (the demo): the figures in effect, not the preferences'.
    p.token.value = fixed ? fixed.tokenMinutes : prefs.tokenRefreshMinutes;
    p.creds.value = fixed ? fixed.credentialsMinutes : prefs.credentialsRefreshMinutes;
    p.token.disabled = p.creds.disabled = !!fixed;
    p.fixed.hidden = !fixed;
    p.flow.value = prefs.signInFlow;
    p.rmOut.checked = prefs.removeProfilesOnSignOut;
    p.rmQuit.checked = prefs.removeProfilesOnQuit;
    p.share.checked = prefs.shareSessionWithAwsCli;
    p.discovery.value = prefs.discoveryPercent;
  }

  function build(ctx) {
    const minutes = (testid) => h('input', { type: 'number', min: 1, max: 120, step: 1, required: true, testid, class: 'num' });
    p = {
      instList: h('ul', { class: 'insts', testid: 'instance-list' }),
      addBtn: h('button', { type: 'button', class: 'small', testid: 'instance-add', text: 'Add access portal…', onclick: () => openAdd(ctx) }),
      token: minutes('pref-token-refresh'),
      fixed: h('p', { class: 'hint', testid: 'fixed-margins', hidden: true,
        text: 'Set for this demo, so that renewals happen within minutes; your own settings apply when the app runs for real.' }),
      creds: minutes('pref-credentials-refresh'),
      flow: h('select', { testid: 'pref-sign-in-flow' },
        h('option', { value: 'auto', text: 'Automatic' }),
        h('option', { value: 'device', text: 'Device code' }),
        h('option', { value: 'pkce', text: 'Browser (PKCE)' })),
      rmOut: h('input', { type: 'checkbox', testid: 'pref-remove-on-sign-out' }),
      rmQuit: h('input', { type: 'checkbox', testid: 'pref-remove-on-quit' }),
      share: h('input', { type: 'checkbox', testid: 'pref-share-cli' }),
      discovery: h('input', { type: 'number', min: 10, max: 100, step: 5, required: true, testid: 'pref-discovery', class: 'num' }),
      saved: h('span', { class: 'saved', role: 'status', testid: 'preferences-saved' }),
      login: h('input', { type: 'checkbox', testid: 'start-at-login' }),
      file: h('code', { testid: 'credentials-file' }),
      skipped: h('section', { class: 'card warn', testid: 'skipped-settings', 'aria-labelledby': 'set-skipped', hidden: true }),
      endpoints: h('div', { testid: 'endpoint-overrides', hidden: true }),
    };
    const form = h('form', { class: 'form', testid: 'preferences-form', novalidate: true },
      h('div', { class: 'row2' },
        field('Renew the session (minutes before expiry)', p.token),
        field('Renew credentials (minutes before expiry)', p.creds)),
      p.fixed,
      field('Sign-in flow', p.flow),
      field('Remove profiles with keys when I sign out', p.rmOut, 'Signing out of an access portal removes its favourites\' profiles and every one-off profile (Write profile as…) that aws-sso-tray wrote to ~/.aws/credentials. Favourites of other portals and profiles of your own stay.'),
      field('Remove profiles with keys when I quit', p.rmQuit, 'Quitting removes every favourite\'s profile and every one-off profile that aws-sso-tray wrote to ~/.aws/credentials. Profiles of your own stay.'),
      field('Share my session with the AWS CLI', p.share, 'Turned on, the session is copied at once into the AWS CLI\'s cache, a plaintext file under ~/.aws/sso/cache, and kept there, renewed at least 15 minutes before it ends; turned off, the copy is removed. The AWS CLI profiles below sign in with it.'),
      field('Background account reading (% of what AWS allows)', p.discovery, 'The accounts you look at are read at once; the others at this share, leaving the rest to your other AWS tools.'),
      formError(),
      h('p', { class: 'small muted' }, 'Changes are saved as you make them. ', p.saved));
    // One rule for every setting: saved when changed (a number when it is left or Enter
    // is pressed), as "Start at login" is.
    // Leaving the tab saves too: a number typed and not yet left (the tab clicked
    // without the field losing focus) would otherwise be lost with the view.
    const save = async ({ leaving = false } = {}) => {
      const msg = form.querySelector('.form-error');
      const refuse = (text, field) => {
        if (leaving) { ctx.notify(text); return; }
        msg.textContent = text;
        msg.hidden = false;
        field.focus();
      };
      const bad = [p.token, p.creds].filter((i) => !i.disabled).find((i) => !/^\d+$/.test(i.value) || +i.value < 1 || +i.value > 120);
      if (bad) return refuse('Refresh times are whole minutes from 1 to 120; this one is not saved.', bad);
      if (!/^\d+$/.test(p.discovery.value) || +p.discovery.value < 10 || +p.discovery.value > 100) {
        return refuse('The background share is a whole percentage from 10 to 100; it is not saved.', p.discovery);
      }
      const preferences = {
        ...ctx.S.app.preferences, // keeps fields this UI does not know about
        ...(p.token.disabled ? {} : { tokenRefreshMinutes: +p.token.value, credentialsRefreshMinutes: +p.creds.value }),
        signInFlow: p.flow.value,
        removeProfilesOnSignOut: p.rmOut.checked,
        removeProfilesOnQuit: p.rmQuit.checked,
        shareSessionWithAwsCli: p.share.checked,
        discoveryPercent: +p.discovery.value,
      };
      dirty = false;
      try {
        await submitting(form, () => ctx.invoke('set_preferences', { preferences }), ctx.showError);
        if (!p) return;
        p.saved.textContent = 'Saved.';
        clearTimeout(savedTimer);
        savedTimer = setTimeout(() => { if (p) p.saved.textContent = ''; }, 4000);
      } catch { if (savePrefs === save) dirty = true; /* shown; still to save */ }
    };
    savePrefs = save;
    form.addEventListener('input', () => { dirty = true; if (p) p.saved.textContent = ''; });
    form.addEventListener('change', save);
    form.addEventListener('submit', (ev) => { ev.preventDefault(); save(); });
    // The demo leaves the user's login items alone: the box is shown, off and disabled.
    const loginAvailable = ctx.S.app?.startAtLoginAvailable !== false;
    p.login.disabled = !loginAvailable;
    p.login.addEventListener('change', async () => {
      const enabled = p.login.checked;
      p.login.disabled = true;
      try { await ctx.invoke('set_start_at_login', { enabled }); } catch (e) { p.login.checked = !enabled; ctx.showError(e); }
      if (p) p.login.disabled = false;
    });
    cli = cliProfilesCard(ctx);
    aws = awsConfigCard(ctx);
    el.replaceChildren(
      h('h2', { tabindex: '-1', class: 'sr-only', text: 'Settings' }),
      p.skipped,
      h('section', { class: 'card', 'aria-labelledby': 'set-inst' }, h('h3', { id: 'set-inst', text: 'AWS access portals' }), p.instList, p.addBtn),
      aws.node,
      h('section', { class: 'card', 'aria-labelledby': 'set-prefs' }, h('h3', { id: 'set-prefs', text: 'Preferences' }), form),
      cli.node,
      h('section', { class: 'card', 'aria-labelledby': 'set-gen' }, h('h3', { id: 'set-gen', text: 'General' }),
        field('Start at login', p.login, loginAvailable
          ? 'Starts in the tray, without the window, when you log in.'
          : 'Not in the demo: it would change your own login items.'),
        h('p', { class: 'small muted' }, 'Profiles are written to ', p.file),
        p.endpoints));
  }

  return {
    el,
    mount(ctx) {
      instKey = null; removing = null; dirty = false; build(ctx);
      if (!choices) {
        consoleChoices(ctx.invoke).then((c) => { choices = c; if (p) renderInstances(ctx); }, () => {});
      }
    },
    unmount() {
      if (dirty) savePrefs({ leaving: true });
      closeAdd(); el.replaceChildren(); p = null; cli = null; aws = null; savePrefs = null;
    },
    update(ctx) {
      const a = ctx.S.app;
      renderInstances(ctx);
      aws.update(a.instances);
      if (!dirty) fillPrefs(a.preferences, a.fixedMargins);
      cli.update(a.preferences);
      if (!p.login.disabled || !a.startAtLoginAvailable) p.login.checked = a.startAtLogin;
      p.file.textContent = a.credentialsFile;
      const overrides = a.endpointOverrides || [];
      const ok = JSON.stringify(overrides);
      if (p.endpoints.dataset.key !== ok) {
        p.endpoints.dataset.key = ok;
        p.endpoints.hidden = !overrides.length;
        p.endpoints.replaceChildren(
          h('p', { class: 'small', text: 'Sign-ins and credentials go to these addresses, set in the environment, instead of AWS\'s own:' }),
          h('ul', { class: 'overrides small mono' }, overrides.map((o) => h('li', { text: `${o.variable} = ${o.url}` }))));
      }
      const skipped = a.skippedSettings || [];
      const sk = JSON.stringify(skipped);
      if (p.skipped.dataset.key !== sk) {
        p.skipped.dataset.key = sk;
        p.skipped.hidden = !skipped.length;
        p.skipped.replaceChildren(
          h('h3', { id: 'set-skipped', text: skipped.length === 1 ? 'A setting is skipped' : `${skipped.length} settings are skipped` }),
          h('ul', { class: 'skipped' }, skipped.map((text) => h('li', { class: 'small', text }))));
      }
    },
  };
}
