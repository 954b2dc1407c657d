// /ui/jobs/{job} — the job's runs newest first, with the listing's filter and paging, its
// aggregate, and charts of its recent durations and daily outcomes.
import { ApiError, getJson } from '../api.js';
import { h, link, paths, section, setTitle, table } from '../dom.js';
import { duration, number, percent, statusBadge, statusColours, statuses, time, timeZone } from '../format.js';
import { localDay, stackedBars, timeChart } from '../charts.js';
import { failure } from '../notice.js';

export async function jobPage({ main, params: [job], query, signal, navigate }) {
  setTitle(job);
  const filter = query.get('filter') ?? '';
  const pageToken = query.get('page_token') ?? '';
  const here = paths.job(job);

  main.append(h('p', { class: 'crumbs' }, link('./', 'Jobs'), ' / '), h('h1', { tabindex: '-1' }, job));

  const stats = await getJson(`/v1/jobs/${encodeURIComponent(job)}/stats`, { signal });
  main.append(h('div', { class: 'cards' },
    card('Runs', number.format(stats.total)),
    card('Success rate', percent(stats.success_rate)),
    card('Duration p50', duration(stats.duration.p50)),
    card('Duration p95', duration(stats.duration.p95)),
    card('Duration max', duration(stats.duration.max)),
    card('Last run', statusBadge(stats.last_run.status))));

  const input = h('input', { id: 'filter', name: 'filter', type: 'search', value: filter, spellcheck: 'false', 'aria-describedby': 'filter-help',
    placeholder: 'status = "failed" AND create_time >= "2026-01-01T00:00:00Z"' });
  const form = h('form', { class: 'filter', role: 'search', onsubmit: event => {
    event.preventDefault();
    navigate(paths.withQuery(here, { filter: input.value.trim() }));
  } },
  h('label', { for: 'filter' }, 'Filter'),
  h('div', { class: 'row' }, input, h('button', { type: 'submit' }, 'Apply')),
  h('p', { id: 'filter-help', class: 'help' }, 'AIP-160, as the API takes it: ', h('code', {}, 'status'), ', ', h('code', {}, 'trigger'), ', ',
    h('code', {}, 'source'), ', ', h('code', {}, 'created_by'), ', ', h('code', {}, 'create_time'), ', ', h('code', {}, 'duration'), ', ',
    h('code', {}, 'labels.<key>'), ' with = != < > <= >=, AND, OR, NOT.'));

  const runs = h('div', {});
  main.append(section('Runs', form, runs));
  try {
    const page = await getJson(`/v1/jobs/${encodeURIComponent(job)}/runs`, { query: { filter, page_token: pageToken }, signal });
    runs.append(runTable(job, page.runs), h('nav', { class: 'pager', 'aria-label': 'Pages of runs' },
      pageToken ? link(paths.withQuery(here, { filter }), '← Newest runs') : null,
      page.next_page_token ? link(paths.withQuery(here, { filter, page_token: page.next_page_token }), 'Older runs →') : null));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400) throw error;
    runs.append(failure(error));
  }

  const charts = h('div', { class: 'charts' });
  main.append(section('Charts', charts));
  const [recent, daily] = await Promise.all([
    getJson(`/v1/jobs/${encodeURIComponent(job)}/runs`, { query: { page_size: 100 }, signal }),
    getJson('/v1/stats/daily', { query: { time_zone: timeZone, filter: `job = "${job}"` }, signal }),
  ]);
  const ordered = [...recent.runs].reverse();
  charts.append(
    timeChart({
      title: `Duration of the last ${ordered.length} runs`,
      x: ordered.map(r => Date.parse(r.created_on) / 1000),
      series: [{ label: 'duration', values: ordered.map(r => r.duration), format: duration }],
      yLabel: 'seconds', yFormat: v => `${v} s`, points: true, signal,
    }),
    dailyChart(daily, signal));
}

function card(title, value) {
  return h('div', { class: 'card' }, h('div', { class: 'card-title' }, title), h('div', { class: 'card-value' }, value));
}

export function runTable(job, runs) {
  return table({
    caption: `Runs of ${job}, newest first`,
    empty: 'No runs match.',
    rows: runs,
    columns: [
      { title: 'Run', cell: r => link(paths.run(r.job, r.id), r.id) },
      { title: 'Status', cell: r => statusBadge(r.status) },
      { title: 'Trigger', cell: r => r.trigger },
      { title: 'Created', cell: r => time(r.created_on) },
      { title: 'Started', cell: r => time(r.started_on) },
      { title: 'Duration', class: 'number', cell: r => duration(r.duration) },
      { title: 'Exit code', class: 'number', cell: r => r.exit_code ?? '—' },
    ],
  });
}

/** Daily runs per status in the browser's time zone, as a chart and as a table of the same numbers. */
export function dailyChart(daily, signal) {
  const shown = statuses.filter(s => daily.days.some(d => d.by_status[s] > 0));
  const stacks = (shown.length ? shown : ['succeeded']).map(s => ({ label: s, colour: statusColours[s], values: daily.days.map(d => d.by_status[s] ?? 0) }));
  return h('div', { class: 'daily' },
    stackedBars({ title: `Runs per day and status (${daily.time_zone})`, days: daily.days.map(d => localDay(d.date)), stacks, signal }),
    h('details', {}, h('summary', {}, 'The same numbers as a table'), table({
      caption: `Runs per day (${daily.time_zone})`,
      rows: [...daily.days].reverse(),
      columns: [
        { title: 'Date', cell: d => d.date },
        { title: 'Total', class: 'number', cell: d => d.total },
        ...statuses.map(s => ({ title: s, class: 'number', cell: d => d.by_status[s] ?? 0 })),
        { title: 'p50', class: 'number', cell: d => duration(d.duration.p50) },
        { title: 'p95', class: 'number', cell: d => duration(d.duration.p95) },
      ],
    })));
}
