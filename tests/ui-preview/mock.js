// Dev-only fake of window.__TAURI__ for previewing ui/ in a browser. Not shipped.
// URL parameters: ?s=signedIn|signedOut|needsSignIn|code|pkce|noInstance  &view=accounts|favourites|settings|signIn
//                 &ttl=SECONDS (code lifetime)  &bench=1 (times the account search; result in <body data-bench>)  &fail=1 (commands reject)
(() => {
  const q = new URLSearchParams(location.search);
  const scenario = q.get('s') || 'signedIn';
  const now = Date.now();
  const MIN = 60000;

  // Deterministic pseudo-random organisation: 1,000 accounts × 3 roles.
  let seed = 42;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const teams = ['payments', 'checkout', 'identity', 'search', 'ledger', 'billing', 'catalog', 'mobile-api', 'data-lake', 'ml-platform', 'fraud', 'notifications', 'reporting', 'edge', 'partner-gw', 'hr-portal', 'crm', 'warehouse', 'pricing', 'loyalty'];
  const envs = ['prod', 'staging', 'dev', 'sandbox', 'qa', 'perf', 'dr'];
  const roleSets = [['AdministratorAccess', 'ReadOnlyAccess', 'PowerUserAccess'], ['ReadOnlyAccess', 'DeveloperAccess', 'BillingViewer'], ['AWSAdministratorAccess', 'ViewOnlyAccess', 'SecurityAudit']];
  const fixed = ['payments-prod', 'log-archive', 'audit', 'shared-services', 'network-hub', 'security-tooling', 'management', 'backup-vault', 'sso-identity'];
  const accounts = [];
  const names = new Set();
  for (let i = 0; accounts.length < 1000; i++) {
    let name = i < fixed.length ? fixed[i] : `${teams[rnd(teams.length)]}-${envs[rnd(envs.length)]}`;
    if (names.has(name)) name = `${name}-${(rnd(90) + 10)}`;
    if (names.has(name)) continue;
    names.add(name);
    const id = String(100000000000 + rnd(899999999) * 1000 + accounts.length).padStart(12, '0').slice(0, 12);
    accounts.push({ accountId: id, accountName: name, emailAddress: rnd(3) ? `aws+${name}@example.com` : null, roles: roleSets[rnd(3)] });
  }
  const byName = (n) => accounts.find((a) => a.accountName === n);

  const instance = { startUrl: 'https://acme-corp.awsapps.com/start', region: 'eu-west-1', label: 'Acme' };
  const state = {
    demo: true,
    emulatorUrl: 'http://127.0.0.1:4566',
    credentialsFile: '/home/alex/.aws/credentials',
    instance: scenario === 'noInstance' ? null : instance,
    instances: scenario === 'noInstance' ? [] : [instance, { startUrl: 'https://d-9067aa1234.awsapps.com/start', region: 'us-east-1', label: null }],
    session: { state: ['signedOut', 'needsSignIn', 'noInstance'].includes(scenario) ? (scenario === 'noInstance' ? 'signedOut' : scenario) : scenario === 'signedIn' ? 'signedIn' : 'signingIn', expiresAt: scenario === 'signedIn' ? now + 118 * MIN + 20000 : null, renewable: true },
    signIn: scenario === 'code' ? { userCode: 'WDJB-MJHT', url: 'https://device.sso.eu-west-1.amazonaws.com/?user_code=WDJB-MJHT', expiresAt: now + (q.get('ttl') ? +q.get('ttl') * 1000 : 9 * MIN + 42000) }
      : scenario === 'pkce' ? { userCode: null, url: 'https://oidc.eu-west-1.amazonaws.com/authorize?…', expiresAt: now + 5 * MIN } : null,
    favourites: [
      { profile: 'payments-prod-readonly', startUrl: instance.startUrl, ssoRegion: 'eu-west-1', accountId: byName('payments-prod').accountId, accountName: 'payments-prod', roleName: 'ReadOnlyAccess', region: 'eu-west-1', credentialProcess: false, expiresAt: now + 42 * MIN, error: null, renewing: false },
      { profile: 'shared-services-admin', startUrl: instance.startUrl, ssoRegion: 'eu-west-1', accountId: byName('shared-services').accountId, accountName: 'shared-services', roleName: 'AdministratorAccess', region: null, credentialProcess: true, expiresAt: null, error: null, renewing: true },
      { profile: 'audit-security', startUrl: instance.startUrl, ssoRegion: 'eu-west-1', accountId: byName('audit').accountId, accountName: 'audit', roleName: 'SecurityAudit', region: 'us-east-1', credentialProcess: false, expiresAt: now - 5 * MIN, error: 'The role SecurityAudit is no longer assigned to you in account audit.', renewing: false },
    ],
    preferences: { tokenRefreshMinutes: 10, credentialsRefreshMinutes: 5, signInFlow: 'auto', removeProfilesOnSignOut: true, removeProfilesOnQuit: false, shareSessionWithAwsCli: false },
    startAtLogin: true,
  };
  let cache = { accounts, updatedAt: now - 3 * MIN, refreshing: false };

  const handlers = {};
  const emit = (name, payload) => setTimeout(() => (handlers[name] || []).forEach((h) => h({ event: name, payload })), 0);
  const push = () => emit('state', JSON.parse(JSON.stringify(state)));
  const fail = (code, message) => Promise.reject({ code, message });
  const NAME = /^[A-Za-z0-9._-]+$/;
  let signInReject = null;

  const commands = {
    get_state: () => JSON.parse(JSON.stringify(state)),
    get_accounts: () => cache,
    refresh_accounts: () => {
      let done = 0;
      emit('accounts-progress', { done: 0, total: null });
      const t = setInterval(() => {
        done = Math.min(1000, done + 120);
        emit('accounts-progress', { done, total: 1000 });
        if (done >= 1000) { clearInterval(t); cache = { accounts, updatedAt: Date.now(), refreshing: false }; emit('accounts', cache); }
      }, 300);
      return null;
    },
    sign_in: () => new Promise((resolve, reject) => {
      state.session.state = 'signingIn';
      state.signIn = { userCode: 'QXRT-PLMN', url: 'https://device.sso.eu-west-1.amazonaws.com/', expiresAt: Date.now() + 10 * MIN };
      push();
      signInReject = reject;
      setTimeout(() => {
        if (!state.signIn) return;
        state.signIn = null; state.session = { state: 'signedIn', expiresAt: Date.now() + 8 * 60 * MIN, renewable: true };
        signInReject = null; push(); resolve(null);
      }, 15000);
    }),
    cancel_sign_in: () => {
      state.signIn = null; state.session.state = 'signedOut'; push();
      signInReject?.({ code: 'cancelled', message: 'Sign-in cancelled.' }); signInReject = null;
      return null;
    },
    open_sign_in_page: () => null,
    sign_out: () => { state.session = { state: 'signedOut', expiresAt: null, renewable: false }; push(); return null; },
    add_favourite: ({ favourite: f }) => {
      if (!NAME.test(f.profile)) return fail('invalidInput', 'A profile name may only contain letters, digits, dots, dashes and underscores.');
      if (state.favourites.some((x) => x.profile === f.profile)) return fail('conflict', `A favourite named ${f.profile} already exists.`);
      state.favourites.push({ ...f, startUrl: instance.startUrl, ssoRegion: instance.region, expiresAt: f.credentialProcess ? null : Date.now() + 60 * MIN, error: null, renewing: false });
      push(); return null;
    },
    remove_favourite: ({ profile }) => { state.favourites = state.favourites.filter((f) => f.profile !== profile); push(); return null; },
    write_profile: ({ request: r }) => NAME.test(r.profile) ? { profile: r.profile, expiresAt: Date.now() + 60 * MIN }
      : fail('invalidInput', 'A profile name may only contain letters, digits, dots, dashes and underscores.'),
    renew_now: ({ profile }) => {
      const f = state.favourites.find((x) => x.profile === profile);
      f.renewing = true; push();
      return new Promise((res) => setTimeout(() => { f.renewing = false; f.error = null; f.expiresAt = Date.now() + 60 * MIN; push(); res(null); }, 1500));
    },
    open_console: () => (q.get('fail') ? fail('signInNeeded', 'Your session has ended; sign in again to open the console.') : null),
    set_preferences: ({ preferences }) => { state.preferences = preferences; push(); return null; },
    set_start_at_login: ({ enabled }) => { state.startAtLogin = enabled; push(); return null; },
    add_instance: ({ instance: i }) => {
      if (!/^https:\/\/[^/]+\.awsapps\.com\/start\/?$|^https:\/\/[^/]+\/start/.test(i.startUrl)) return fail('invalidInput', 'The start URL should look like https://my-org.awsapps.com/start.');
      if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(i.region)) return fail('invalidInput', `"${i.region}" is not an AWS region.`);
      state.instances.push(i); state.instance = i; state.session = { state: 'signedOut', expiresAt: null, renewable: false }; push(); return null;
    },
    remove_instance: ({ startUrl }) => { state.instances = state.instances.filter((i) => i.startUrl !== startUrl); if (state.instance?.startUrl === startUrl) state.instance = state.instances[0] || null; push(); return null; },
    set_default_instance: ({ startUrl }) => { state.instance = state.instances.find((i) => i.startUrl === startUrl); push(); return null; },
  };

  window.__TAURI__ = {
    core: {
      invoke: (cmd, args) => {
        const f = commands[cmd];
        if (!f) return fail('internal', `Unknown command ${cmd}.`);
        try { return Promise.resolve(f(args || {})); } catch (e) { return fail('internal', String(e)); }
      },
    },
    event: {
      listen: (name, h) => { (handlers[name] ||= []).push(h); return Promise.resolve(() => {}); },
    },
  };

  if (q.get('view')) window.addEventListener('load', () => setTimeout(() => emit('show-view', q.get('view')), 50));

  if (q.get('bench')) {
    window.addEventListener('load', () => setTimeout(() => {
      const input = document.querySelector('[data-testid=account-search]');
      const out = [];
      for (const term of ['', 'p', 'pa', '', 'p', 'pa', 'pay', 'payments-prod', 'admin', 'readonly', '1234', 'zzz', '']) {
        input.value = term;
        const t0 = performance.now();
        input.dispatchEvent(new Event('input'));
        const ms = performance.now() - t0;
        void document.body.offsetHeight; // force style + layout
        const ms2 = performance.now() - t0;
        out.push(`${term || '(empty)'}: ${ms.toFixed(1)} ms JS, ${ms2.toFixed(1)} ms with layout, ${document.querySelectorAll('[data-testid=account-row]').length} rows`);
      }
      document.body.dataset.bench = out.join(' | ');
      console.log('search bench', out.join(' '));
    }, 0));
  }
})();
