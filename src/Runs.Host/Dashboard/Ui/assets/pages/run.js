// /ui/jobs/{job}/runs/{run} — one run: its state and timings, its log (followed live until the run
// ends), its telemetry, its event history with the chain's verification, and its files.
import { ApiError, download, getJson, request } from '../api.js';
import { append, h, facts, link, paths, section, setTitle, sleep, table } from '../dom.js';
import { bytes, clockTime, duration, statusBadge, terminal, time } from '../format.js';
import { timeChart } from '../charts.js';
import { followLog } from '../live-log.js';
import { failure } from '../notice.js';

/** Lines kept on the page; the whole log is one download away. */
const maxLinesShown = 5000;
const pollInterval = 5000;
const maxTelemetryCharts = 8;

export async function runPage({ main, params: [job, id], query, signal }) {
  const base = `/v1/jobs/${encodeURIComponent(job)}/runs/${encodeURIComponent(id)}`;
  const first = await request(base, { signal });
  let run = await first.json();
  let etag = first.headers.get('ETag');
  setTitle(id, job);

  const heading = h('h1', { tabindex: '-1' }, h('span', { class: 'run-id' }, id), ' ', statusBadge(run.status));
  const summary = h('div', { class: 'summary' });
  main.append(h('p', { class: 'crumbs' }, link('./', 'Jobs'), ' / ', link(paths.job(job), job), ' / '), heading, summary);

  const log = logSection(base, run, query.get('line'), signal, () => refresh());
  const telemetry = h('div', {});
  const history = h('div', {});
  const files = h('div', {});
  main.append(log.element, section('Telemetry', telemetry), section('History', history), section('Files', files));

  const show = () => {
    heading.replaceChildren(h('span', { class: 'run-id' }, id), ' ', statusBadge(run.status));
    summary.replaceChildren(...details(run));
    filesOf(files, run, base);
  };
  show();
  await Promise.all([loadTelemetry(telemetry, base, signal), loadHistory(history, base, signal)]);

  // The page follows the run until it ends: its state by ETag (304 while nothing changed), the log by its stream.
  async function refresh() {
    const response = await request(base, { signal, headers: etag ? { 'If-None-Match': etag } : {} });
    if (response.status === 304) return;
    etag = response.headers.get('ETag');
    const wasTerminal = terminal.has(run.status);
    run = await response.json();
    show();
    await loadTelemetry(telemetry, base, signal);
    if (terminal.has(run.status) && !wasTerminal) await loadHistory(history, base, signal);
  }
  // Not awaited: the page is ready now, and keeps itself current until the run ends or the page is left.
  (async () => {
    while (!signal.aborted && !terminal.has(run.status)) {
      await sleep(pollInterval, signal);
      if (signal.aborted) break;
      try {
        await refresh();
      } catch (error) {
        if (signal.aborted || (error instanceof ApiError && error.status === 401)) break;
      }
    }
  })();
}

function details(run) {
  const timings = facts([
    ['Status', statusBadge(run.status)],
    ['Trigger', run.trigger],
    ['Source', run.source],
    ['Created by', run.created_by],
    ['Runner', run.runner],
    ['Created', time(run.created_on)],
    ['Started', time(run.started_on)],
    ['Completed', time(run.completed_on)],
    ['Duration', duration(run.duration)],
    ['Exit code', run.exit_code == null ? null : String(run.exit_code)],
    ['Paused because', run.paused_reason],
    ['Canceled because', run.cancel_reason],
    ['Rejected because', run.reject_reason],
    ['Previous run', run.previous_run ? link(paths.run(run.job, run.previous_run), run.previous_run) : null],
    ['Command', run.command ?? (run.argv ? run.argv.join(' ') : null)],
    ['Labels', Object.keys(run.labels ?? {}).length ? Object.entries(run.labels).map(([k, v]) => h('span', { class: 'label' }, `${k}=${v}`)) : null],
    ['Log lines', String(run.log_lines) + (run.log_lines_dropped ? ` (${run.log_lines_dropped} dropped at the cap)` : '')],
    ['Retention', run.retention.expired ? 'expired: log, input and output are gone' : run.retention.expires_on ? h('span', {}, 'until ', time(run.retention.expires_on)) : 'kept while the run is open'],
  ]);
  const error = run.error_summary || run.last_error_lines?.length
    ? h('div', { class: 'notice error', role: 'note' },
      h('strong', {}, 'Error summary'),
      run.error_summary ? h('pre', { class: 'error-summary' }, run.error_summary) : null,
      run.last_error_lines?.length ? [h('div', {}, 'Last error lines'), h('pre', { class: 'error-lines' }, run.last_error_lines.join('\n'))] : null)
    : null;
  return [timings, error].filter(Boolean);
}

function logSection(base, run, wanted, signal, onEnded) {
  const connection = h('span', { class: 'connection', role: 'status', 'aria-live': 'polite' }, 'connecting…');
  const count = h('span', { class: 'count' }, '');
  const follow = h('input', { type: 'checkbox', id: 'follow', checked: true });
  const lines = h('ol', { class: 'log', tabindex: '0', 'aria-label': 'Log lines' });
  const hidden = h('p', { class: 'help', hidden: true });
  let shown = 0;
  let total = 0;
  const element = section('Log',
    h('div', { class: 'toolbar' },
      connection, count,
      h('label', { class: 'inline' }, follow, ' Follow new lines'),
      h('button', { type: 'button', class: 'secondary', onclick: () => download(`${base}/log`, `${run.id}.log`).catch(e => lines.before(failure(e))) }, 'Download log')),
    hidden, lines);

  const target = wanted ? Number(wanted) : null;
  if (target) follow.checked = false;

  followLog({
    address: new URL(run.links.log_stream.replace(/^\//, ''), new URL('..', document.baseURI)),
    signal,
    onLines: batch => {
      const fragment = document.createDocumentFragment();
      for (const line of batch) {
        fragment.append(h('li', { id: `L${line.id}`, class: `level-${line.level}${line.id === target ? ' target' : ''}` },
          h('span', { class: 'line-id' }, String(line.id)),
          h('time', { datetime: line.at, title: line.at }, clockTime(line.at)),
          h('span', { class: 'level' }, line.level.toUpperCase()),
          h('span', { class: 'message' }, line.message)));
      }
      lines.append(fragment);
      shown += batch.length;
      total += batch.length;
      while (shown > maxLinesShown) {
        lines.firstElementChild.remove();
        shown--;
      }
      if (total > shown) {
        hidden.hidden = false;
        hidden.textContent = `The first ${total - shown} lines are not shown here; download the log to read them all.`;
      }
      count.textContent = `${total} lines`;
      if (target && batch.some(line => line.id === target)) document.getElementById(`L${target}`)?.scrollIntoView({ block: 'center' });
      if (follow.checked) lines.scrollTop = lines.scrollHeight;
    },
    onState: () => onEnded().catch(() => {}),
    onConnection: (what, error) => {
      connection.className = `connection connection-${what}`;
      connection.textContent = {
        live: 'live: new lines appear as they are written',
        reconnecting: 'connection lost: reconnecting…',
        ended: 'the run has ended; this is the whole log',
        expired: 'the log has expired',
        error: 'the log could not be read',
      }[what];
      if (error && what !== 'reconnecting') lines.before(failure(error));
      if (what === 'ended' && total === 0) lines.replaceWith(h('p', { class: 'empty' }, 'This run wrote no log lines.'));
    },
  });
  return { element };
}

async function loadTelemetry(container, base, signal) {
  let telemetry;
  try {
    telemetry = await getJson(`${base}/telemetry`, { signal });
  } catch (error) {
    if (signal.aborted) return;
    container.replaceChildren(failure(error));
    return;
  }
  const fields = [...new Set(telemetry.samples.flatMap(s => Object.keys(s).filter(k => k !== 'at' && typeof s[k] === 'number')))];
  const parts = [];
  if (Object.keys(telemetry.summary).length) {
    parts.push(facts(Object.entries(telemetry.summary).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)])));
  }
  // One chart per field, each on its own scale (rows and CPU percent do not share an axis); the first few.
  const x = telemetry.samples.map(s => Date.parse(s.at) / 1000);
  if (fields.length) {
    parts.push(h('div', { class: 'charts' }, fields.slice(0, maxTelemetryCharts).map((field, i) => timeChart({
      title: `${field} (${telemetry.samples.length} samples)`,
      x,
      series: [{ label: field, values: telemetry.samples.map(s => (typeof s[field] === 'number' ? s[field] : null)) }],
      colourIndex: i,
      signal,
    }))));
    if (fields.length > maxTelemetryCharts) {
      parts.push(h('p', { class: 'help' }, `${fields.length - maxTelemetryCharts} more fields are in GET …/telemetry.`));
    }
  }
  container.replaceChildren(...(parts.length ? parts : [h('p', { class: 'empty' }, 'No telemetry was recorded.')]));
}

async function loadHistory(container, base, signal) {
  const verification = h('div', { class: 'verification', role: 'status' }, 'Checking the chain…');
  const events = h('div', {});
  container.replaceChildren(verification, events);
  verify(verification, base, signal);

  const rows = [];
  const more = h('button', { type: 'button', class: 'secondary' }, 'More events');
  const page = async token => {
    const answer = await getJson(`${base}/events`, { query: { page_size: 100, page_token: token }, signal });
    rows.push(...answer.events);
    events.replaceChildren(table({
      caption: 'Event history, oldest first',
      rows,
      columns: [
        { title: 'Version', class: 'number', cell: e => e.version },
        { title: 'Event', cell: e => e.type },
        { title: 'Time', cell: e => time(e.timestamp) },
        { title: 'By', cell: e => e.metadata?.user ?? '—' },
        { title: 'Hash', cell: e => (e.hash ? h('code', { title: e.hash }, e.hash.slice(0, 12)) : '—') },
      ],
    }));
    if (answer.next_page_token) {
      more.onclick = () => page(answer.next_page_token).catch(e => events.append(failure(e)));
      events.append(more);
    }
  };
  await page(null);
}

/** The verify endpoint may not exist on this server yet: then the page says so and carries on. */
async function verify(container, base, signal) {
  try {
    const result = await getJson(`${base}/verify`, { signal });
    container.className = `verification ${result.verified ? 'verified' : 'not-verified'}`;
    // append() flattens and skips what is absent; replaceChildren() would print an array or a null as text.
    container.replaceChildren();
    append(container, [
      h('strong', {}, result.verified ? '✓ Verified: ' : '✗ Not verified: '),
      `${result.events} events, ${result.log_lines} log lines and ${result.files} files checked against the hash chain`,
      result.checked_on ? [' on ', time(result.checked_on)] : null, '.',
      result.problems?.length ? h('ul', { class: 'problems' }, result.problems.map(p =>
        h('li', {}, h('code', {}, p.kind), ' ',
          [p.version != null ? `version ${p.version}` : null, p.line_id != null ? `line ${p.line_id}` : null, p.file ? `file ${p.file}` : null].filter(Boolean).join(', '),
          p.detail ? `: ${p.detail}` : ''))) : null]);
  } catch (error) {
    if (signal.aborted) return;
    container.className = 'verification unavailable';
    container.replaceChildren(error instanceof ApiError && error.status === 404
      ? 'Verification not available on this server.'
      : failure(error));
  }
}

function filesOf(container, run, base) {
  if (run.retention.expired) {
    container.replaceChildren(h('p', { class: 'empty' }, 'The input and output files of this run have expired.'));
    return;
  }
  const fileTable = (caption, files, pathOf) => table({
    caption,
    captionVisible: true,
    rows: files,
    columns: [
      { title: 'Name', cell: f => f.name },
      { title: 'Size', class: 'number', cell: f => bytes(f.size) },
      { title: 'Type', cell: f => f.content_type },
      { title: 'SHA-256', cell: f => h('code', { title: f.sha256 }, f.sha256.slice(0, 12)) },
      ...(pathOf ? [{ title: 'Download', cell: f => downloadButton(pathOf(f), f.name, `Download ${f.name}`) }] : []),
    ],
  });
  const parts = [];
  if (run.output_files?.length) {
    parts.push(fileTable('Output', run.output_files, null),
      downloadButton(`${base}/output`, run.output_files.length === 1 ? run.output_files[0].name : `${run.id}-output.zip`,
        run.output_files.length === 1 ? 'Download the output' : `Download the output (${run.output_files.length} files, zip)`));
  }
  if (run.input_files?.length) {
    parts.push(fileTable('Input files', run.input_files, f => `${base}/input/${encodeURIComponent(f.name)}`));
  }
  container.replaceChildren(...(parts.length ? parts : [h('p', { class: 'empty' }, 'No input or output files.')]));
}

function downloadButton(path, name, text) {
  const button = h('button', { type: 'button', class: 'secondary' }, text);
  button.addEventListener('click', () => download(path, name).catch(error => button.after(failure(error))));
  return button;
}
