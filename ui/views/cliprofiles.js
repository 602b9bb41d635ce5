import { h, field, num, formError, submitting } from '../util.js';

/** Names a change lists before it says how many more there are. */
const LISTED = 12;

const OUTPUTS = ['', 'json', 'yaml', 'yaml-stream', 'text', 'table'];

/** The preference these profiles sign in with, as Settings names it. */
const SHARE = 'Share my session with the AWS CLI';

const profiles = (n) => (n === 1 ? '1 profile' : `${num(n)} profiles`);

function listed(names) {
  const shown = names.slice(0, LISTED).join(', ');
  return names.length > LISTED ? `${shown} and ${num(names.length - LISTED)} more` : shown;
}

/** The "AWS CLI profiles" card of Settings: the rules (template, filters, region, output,
 * after each refresh), Preview (the change as a diff of the config file) and Apply. */
export function cliProfilesCard(ctx) {
  const p = {
    template: h('input', { type: 'text', testid: 'gen-template', spellcheck: 'false', autocomplete: 'off', class: 'mono' }),
    accounts: h('input', { type: 'text', testid: 'gen-accounts', spellcheck: 'false', autocomplete: 'off', placeholder: 'every account' }),
    roles: h('input', { type: 'text', testid: 'gen-roles', spellcheck: 'false', autocomplete: 'off', placeholder: 'every role' }),
    region: h('input', { type: 'text', testid: 'gen-region', spellcheck: 'false', autocomplete: 'off', placeholder: 'none' }),
    output: h('select', { testid: 'gen-output' }, OUTPUTS.map((o) => h('option', { value: o, text: o || 'none' }))),
    auto: h('input', { type: 'checkbox', testid: 'gen-auto' }),
    preview: h('button', { type: 'button', testid: 'gen-preview', text: 'Preview' }),
    apply: h('button', { type: 'submit', class: 'primary', testid: 'gen-apply', text: 'Apply' }),
    result: h('div', { class: 'gen-result', testid: 'gen-result', role: 'status', hidden: true }),
  };
  let dirty = false;
  const rules = () => ({
    ...ctx.S.app.preferences.awsCliProfiles, // keeps fields this UI does not know about
    template: p.template.value.trim(),
    accounts: p.accounts.value.trim() || null,
    roles: p.roles.value.trim() || null,
    region: p.region.value.trim() || null,
    output: p.output.value || null,
    autoApply: p.auto.checked,
  });
  const form = h('form', { class: 'form', testid: 'gen-form', novalidate: true },
    field('Profile names', p.template, 'From {account_name}, {account_id}, {role_name} and {portal}; other characters are letters, digits and - _ . / % @ : +.'),
    h('div', { class: 'row2' },
      field('Accounts (name or id, * and ? match any)', p.accounts),
      field('Roles', p.roles)),
    h('div', { class: 'row2' },
      field('Region in each profile', p.region),
      field('Output format', p.output)),
    field('Update them after each refresh of the account list', p.auto),
    formError(),
    h('div', { class: 'actions' }, p.apply, p.preview),
    p.result);

  const run = (preview) => {
    p.result.hidden = false;
    p.result.replaceChildren(h('p', { class: 'small muted', text: 'Reading every account and role…' }));
    return submitting(form, () => ctx.invoke('generate_profiles', { rules: rules(), preview }), ctx.showError)
      .then((g) => { if (!preview) dirty = false; show(g, preview); }, () => { p.result.hidden = true; });
  };
  form.addEventListener('input', () => { dirty = true; });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); run(false); });
  p.preview.addEventListener('click', () => run(true));

  function show(g, preview) {
    const changes = g.created || g.updated || g.removed.length || g.sessionCreated;
    const verbs = preview ? ['would add', 'would change', 'would remove'] : ['added', 'changed', 'removed'];
    const session = `[sso-session ${g.session}]${g.sessionCreated ? ' (new)' : ''}`;
    const head = !changes
      ? `${g.path} already holds these profiles (${profiles(g.unchanged)}, with ${session}).`
      : `${preview ? 'Applying would change' : 'Changed'} ${g.path}, with ${session}: ${verbs[0]} ${profiles(g.created)}, ${verbs[1]} ${num(g.updated)}, ${verbs[2]} ${num(g.removed.length)}; ${num(g.unchanged)} as they were.`;
    const lines = [h('p', { class: 'small', testid: 'gen-summary', text: head })];
    if (g.sharingTurnedOn) {
      lines.push(h('p', { class: 'small', testid: 'gen-sharing', text: `Turned on “${SHARE}”: the AWS CLI and SDKs sign in with these profiles now.` }));
    } else if (preview && g.sharingOff) {
      lines.push(h('p', { class: 'small', testid: 'gen-sharing', text: `Applying also turns on “${SHARE}”, which these profiles sign in with.` }));
    }
    if (g.removed.length) {
      lines.push(h('p', { class: 'small', testid: 'gen-removed',
        text: `${preview ? 'Would remove' : 'Removed'} (the role is no longer yours, or no longer matches): ${listed(g.removed)}.` }));
    }
    if (g.taken.length) {
      lines.push(h('ul', { class: 'small gen-taken', testid: 'gen-taken' },
        g.taken.slice(0, LISTED).map((t) => h('li', { text: `Not generated: ${t.name}, since ${t.whose} has that name (${t.path} line ${t.line}).` })),
        g.taken.length > LISTED && h('li', { text: `… and ${num(g.taken.length - LISTED)} more.` })));
    }
    if (g.renamed.length) {
      lines.push(h('p', { class: 'small muted', text: `${num(g.renamed.length)} named with their account id, since another role has the name: ${listed(g.renamed.map(([, given]) => given))}.` }));
    }
    if (g.unusable) lines.push(h('p', { class: 'small muted', text: `${num(g.unusable)} left out: the config file cannot hold their names.` }));
    if (preview && g.diffLines) {
      const diff = h('pre', { class: 'diff mono small', testid: 'gen-diff', tabindex: '0', 'aria-label': `The change to ${g.path}` },
        g.diff.map((l) => h('span', { class: l.startsWith('+') && !l.startsWith('+++') ? 'add' : l.startsWith('-') && !l.startsWith('---') ? 'del' : l.startsWith('@@') ? 'hunk' : null, text: `${l}\n` })));
      lines.push(diff);
      if (g.diffLines > g.diff.length) {
        lines.push(h('p', { class: 'small muted', text: `… ${num(g.diffLines - g.diff.length)} more lines; aws-sso-auth profile generate --dry-run prints them all.` }));
      }
    }
    p.result.hidden = false;
    p.result.replaceChildren(...lines);
  }

  return {
    node: h('section', { class: 'card', 'aria-labelledby': 'set-cli' },
      h('h3', { id: 'set-cli', text: 'AWS CLI profiles' }),
      h('p', { class: 'small muted', text: `A profile for every role in ~/.aws/config, which the AWS CLI and SDKs sign in with through this portal's session, shared with them. Apply writes them, keeps these rules and turns on “${SHARE}”; profiles generated earlier whose role is gone are removed, and profiles of your own are never touched.` }),
      form),
    update(prefs) {
      if (dirty) return;
      const r = prefs.awsCliProfiles || {};
      p.template.value = r.template || '{account_name}.{role_name}';
      p.accounts.value = r.accounts || '';
      p.roles.value = r.roles || '';
      p.region.value = r.region || '';
      p.output.value = r.output || '';
      p.auto.checked = !!r.autoApply;
    },
  };
}
