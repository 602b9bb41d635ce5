import { h } from '../util.js';

/** The "Import from ~/.aws/config" card of Settings: every access portal the AWS CLI is
 * set up for that the app does not know yet, each with its own Add. Read again whenever
 * the app's access portals change. */
export function awsConfigCard(ctx) {
  const list = h('ul', { class: 'insts', testid: 'aws-config-portals' });
  const none = h('p', { class: 'muted small', testid: 'aws-config-none', hidden: true, text: 'Every access portal in ~/.aws/config is in the list above.' });
  const node = h('section', { class: 'card', testid: 'aws-config-card', 'aria-labelledby': 'set-awsconfig' },
    h('h3', { id: 'set-awsconfig', text: 'Import from ~/.aws/config' }),
    h('p', { class: 'small muted', text: 'Access portals the AWS CLI is set up for. Adding one leaves the current one current.' }),
    list, none);
  let key = null;
  let reading = 0;

  async function read() {
    const mine = ++reading;
    let found;
    try { found = await ctx.invoke('configured_portals'); } catch (e) { ctx.showError(e, { background: true }); return; }
    if (mine !== reading) return;
    none.hidden = found.length > 0;
    list.hidden = !found.length;
    list.replaceChildren(...found.map((p) => h('li', { class: 'instance', testid: 'aws-config-portal', 'data-start-url': p.startUrl },
      h('div', { class: 'inst-head' }, h('strong', {}, h('bdi', { text: p.source }))),
      h('p', { class: 'muted small mono' }, h('bdi', { text: p.startUrl }), ` · ${p.region}`),
      h('div', { class: 'actions' }, h('button', {
        type: 'button', class: 'small', testid: 'aws-config-add', text: 'Add',
        'aria-label': `Add ${p.startUrl}`,
        onclick: async (ev) => {
          ev.currentTarget.disabled = true;
          try {
            await ctx.invoke('import_aws_config_portal', { instance: { startUrl: p.startUrl, region: p.region } });
            ctx.notify(`Added ${p.startUrl} from your AWS CLI configuration.`);
          } catch (e) { ctx.showError(e); }
          read();
        },
      })))));
  }

  return {
    node,
    /** Reads ~/.aws/config again when the app's access portals changed. */
    update(instances) {
      const k = JSON.stringify(instances);
      if (k === key) return;
      key = k;
      read();
    },
  };
}
