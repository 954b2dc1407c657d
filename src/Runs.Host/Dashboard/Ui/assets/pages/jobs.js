// /ui — every job the token may read, with its aggregate.
import { getJson } from '../api.js';
import { h, link, paths, setTitle, table } from '../dom.js';
import { duration, number, percent, statusBadge, time } from '../format.js';

export async function jobsPage({ main, signal }) {
  setTitle('Jobs');
  main.append(h('h1', { tabindex: '-1' }, 'Jobs'));
  const { jobs } = await getJson('/v1/jobs', { signal });
  main.append(table({
    caption: 'Jobs with their aggregates',
    empty: 'No runs yet: a job appears here once it has a run (POST /v1/jobs/{job}/runs).',
    rows: jobs,
    columns: [
      { title: 'Job', cell: j => link(paths.job(j.job), j.job) },
      { title: 'Runs', class: 'number', cell: j => number.format(j.total) },
      { title: 'Success rate', class: 'number', cell: j => percent(j.success_rate) },
      { title: 'Last run', cell: j => h('span', { class: 'last-run' }, statusBadge(j.last_run.status), ' ', link(paths.run(j.job, j.last_run.id), j.last_run.id)) },
      { title: 'Last run created', cell: j => time(j.last_run.created_on) },
      { title: 'Duration p50 / p95', class: 'number', cell: j => `${duration(j.duration.p50)} / ${duration(j.duration.p95)}` },
    ],
  }));
}
