// /ui/stats — daily runs per status across the jobs the token may read, in the browser's time zone.
import { ApiError, getJson } from '../api.js';
import { h, paths, section, setTitle } from '../dom.js';
import { timeZone } from '../format.js';
import { failure } from '../notice.js';
import { dailyChart } from './job.js';

export async function statsPage({ main, query, signal, navigate }) {
  setTitle('Daily statistics');
  const chosen = { start_date: query.get('start_date') ?? '', end_date: query.get('end_date') ?? '', filter: query.get('filter') ?? '' };
  main.append(h('h1', { tabindex: '-1' }, 'Daily statistics'),
    h('p', {}, 'Runs per local day in ', h('strong', {}, timeZone), ' (this browser\'s time zone). Without dates: the 30 days ending today.'));

  const field = (name, label, attributes) => h('div', { class: 'field' }, h('label', { for: name }, label), h('input', { id: name, name, value: chosen[name], ...attributes }));
  const form = h('form', { class: 'filter grid', onsubmit: event => {
    event.preventDefault();
    const data = new FormData(form);
    navigate(paths.withQuery('stats', Object.fromEntries([...data].map(([k, v]) => [k, String(v).trim()]))));
  } },
  field('start_date', 'From', { type: 'date' }),
  field('end_date', 'To', { type: 'date' }),
  field('filter', 'Jobs', { type: 'search', placeholder: 'job = "nightly" OR job = "hourly"', spellcheck: 'false' }),
  h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Show')));
  main.append(form);

  try {
    const daily = await getJson('/v1/stats/daily', { query: { time_zone: timeZone, ...chosen }, signal });
    main.append(section('Runs per day', dailyChart(daily, signal)));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400) throw error;
    main.append(failure(error));
  }
}
