// /ui/search — case-insensitive search over the logs the token may read.
import { ApiError, getJson } from '../api.js';
import { h, link, paths, setTitle } from '../dom.js';
import { clockTime } from '../format.js';
import { failure } from '../notice.js';

const levels = ['debug', 'info', 'warn', 'error'];

export async function searchPage({ main, query, signal, navigate }) {
  setTitle('Search');
  const chosen = Object.fromEntries(['q', 'job', 'filter', 'level', 'page_token'].map(k => [k, query.get(k) ?? '']));
  main.append(h('h1', { tabindex: '-1' }, 'Search logs'));

  const jobs = await getJson('/v1/jobs', { signal }).then(a => a.jobs.map(j => j.job)).catch(() => []);
  const form = h('form', { class: 'filter grid', role: 'search', onsubmit: event => {
    event.preventDefault();
    const data = Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v).trim()]));
    navigate(paths.withQuery('search', data));
  } },
  h('div', { class: 'field wide' }, h('label', { for: 'q' }, 'Text'),
    h('input', { id: 'q', name: 'q', type: 'search', value: chosen.q, required: true, minlength: 3, spellcheck: 'false', placeholder: 'at least 3 characters, any letter case' })),
  h('div', { class: 'field' }, h('label', { for: 'job' }, 'Job'),
    h('select', { id: 'job', name: 'job' }, h('option', { value: '' }, 'every job'), jobs.map(j => h('option', { value: j, selected: j === chosen.job }, j)))),
  h('div', { class: 'field' }, h('label', { for: 'level' }, 'Lowest level'),
    h('select', { id: 'level', name: 'level' }, h('option', { value: '' }, 'any'), levels.map(l => h('option', { value: l, selected: l === chosen.level }, l)))),
  h('div', { class: 'field wide' }, h('label', { for: 'filter' }, 'Runs'),
    h('input', { id: 'filter', name: 'filter', type: 'search', value: chosen.filter, spellcheck: 'false', placeholder: 'status = "failed" (the run listing\'s filter)' })),
  h('div', { class: 'field actions' }, h('button', { type: 'submit' }, 'Search')));
  main.append(form);
  if (!chosen.q) return;

  const path = chosen.job ? `/v1/jobs/${encodeURIComponent(chosen.job)}/logs/search` : '/v1/logs/search';
  let page;
  try {
    page = await getJson(path, { query: { q: chosen.q, filter: chosen.filter, level: chosen.level, page_token: chosen.page_token }, signal });
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 400 && error.status !== 404)) throw error;
    main.append(failure(error));
    return;
  }
  const results = h('section', { 'aria-labelledby': 'results', class: 'results' }, h('h2', { id: 'results' }, page.matches.length
    ? `${page.matches.length}${page.next_page_token ? '+' : ''} matching lines`
    : 'No line matches.'));
  // Matches arrive newest run first, lines in order: one group per run.
  let group = null;
  for (const match of page.matches) {
    if (group?.run !== match.run) {
      group = { run: match.run, list: h('ol', { class: 'log' }) };
      results.append(h('h3', { class: 'match-run' }, link(paths.job(match.job), match.job), ' / ', link(paths.run(match.job, match.run), match.run)), group.list);
    }
    group.list.append(h('li', { class: `level-${match.line.level}` },
      link(paths.withQuery(paths.run(match.job, match.run), { line: match.line.id }), h('span', { class: 'line-id' }, String(match.line.id))),
      h('time', { datetime: match.line.at, title: match.line.at }, clockTime(match.line.at)),
      h('span', { class: 'level' }, match.line.level.toUpperCase()),
      h('span', { class: 'message' }, highlight(match.line.message, chosen.q))));
  }
  main.append(results, h('nav', { class: 'pager', 'aria-label': 'Pages of matches' },
    chosen.page_token ? link(paths.withQuery('search', { ...chosen, page_token: '' }), '← First matches') : null,
    page.next_page_token ? link(paths.withQuery('search', { ...chosen, page_token: page.next_page_token }), 'More matches →') : null));
}

/** The message with each occurrence of the text marked, compared as the server does: ignoring letter case. */
function highlight(message, text) {
  const pattern = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'giu');
  const parts = [];
  let at = 0;
  for (const found of message.matchAll(pattern)) {
    parts.push(message.slice(at, found.index), h('mark', {}, found[0]));
    at = found.index + found[0].length;
  }
  parts.push(message.slice(at));
  return parts;
}
