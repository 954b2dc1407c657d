// /ui/webhooks — webhook endpoints and their deliveries, with every attempt.
import { ApiError, getJson } from '../api.js';
import { h, link, paths, setTitle, table } from '../dom.js';
import { time } from '../format.js';
import { failure } from '../notice.js';

const deliveryStatusClass = { succeeded: 'succeeded', failed: 'failed', dead_lettered: 'failed', pending: 'pending' };

export async function webhooksPage({ main, signal }) {
  setTitle('Webhooks');
  main.append(h('h1', { tabindex: '-1' }, 'Webhooks'));
  let endpoints;
  try {
    ({ webhooks: endpoints } = await getJson('/v1/webhooks', { signal }));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
    main.append(h('p', { class: 'notice' }, 'This token lacks the webhooks:manage scope, so its webhook endpoints cannot be shown.'));
    return;
  }
  if (endpoints.length === 0) {
    main.append(h('p', { class: 'empty' }, 'No webhook endpoints. Create one with POST /v1/webhooks.'));
    return;
  }
  for (const endpoint of endpoints) {
    const deliveries = h('div', { class: 'deliveries' });
    const id = `webhook-${endpoint.id}`;
    main.append(h('section', { class: 'webhook', 'aria-labelledby': id },
      h('h2', { id }, endpoint.description || endpoint.url),
      h('dl', { class: 'facts' },
        fact('URL', h('code', {}, endpoint.url)),
        fact('Events', endpoint.events.join(', ')),
        fact('Jobs', endpoint.jobs.join(', ')),
        fact('Enabled', endpoint.enabled ? 'yes' : `no${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}`),
        fact('Created', h('span', {}, time(endpoint.created_on), ` by ${endpoint.created_by}`)),
        fact('Id', h('code', {}, endpoint.id))),
      deliveries));
    loadDeliveries(deliveries, endpoint, null, signal);
  }
}

function fact(term, value) {
  return h('div', {}, h('dt', {}, term), h('dd', {}, value));
}

async function loadDeliveries(container, endpoint, token, signal) {
  let page;
  try {
    page = await getJson(`/v1/webhooks/${encodeURIComponent(endpoint.id)}/deliveries`, { query: { page_token: token }, signal });
  } catch (error) {
    if (!signal.aborted) container.append(failure(error));
    return;
  }
  container.querySelector('button.more')?.remove();
  container.append(table({
    caption: `Deliveries to ${endpoint.url}, newest first`,
    captionVisible: !token,
    empty: token ? 'No older deliveries.' : 'No deliveries yet.',
    rows: page.deliveries,
    columns: [
      { title: 'Message', cell: d => h('code', {}, d.id) },
      { title: 'Event', cell: d => d.event_type },
      { title: 'Run', cell: d => link(paths.run(d.job, d.run), `${d.job} / ${d.run}`) },
      { title: 'Status', cell: d => h('span', { class: `delivery status-${deliveryStatusClass[d.status] ?? 'pending'}` }, d.status) },
      { title: 'Attempts', cell: d => attempts(d.attempts) },
      { title: 'Next attempt', cell: d => time(d.next_attempt_on) },
    ],
  }));
  if (page.next_page_token) {
    container.append(h('button', { type: 'button', class: 'secondary more', onclick: () => loadDeliveries(container, endpoint, page.next_page_token, signal) }, 'Older deliveries'));
  }
}

function attempts(list) {
  if (!list.length) return '—';
  return h('ol', { class: 'attempts' }, list.map(a => h('li', {},
    `#${a.attempt} `, time(a.at), ': ',
    a.response_status != null ? `HTTP ${a.response_status}` : 'no answer',
    ` in ${a.duration_ms} ms`,
    a.error ? h('span', { class: 'attempt-error' }, ` — ${a.error}`) : null)));
}
