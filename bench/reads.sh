#!/usr/bin/env bash
# Read benchmark over 1,000,000 runs in 100 jobs: p50/p99 of listings, a deep page, a filtered listing,
# job stats and 90 days of daily aggregates, each beside the bare SQL for the same rows (same run).
#   bench/reads.sh          seeds database runs_bench_reads once (about a minute), then measures
#
# Seeding writes run documents straight into the run table with SQL (the reads measured touch only
# that table); it does not write events, so these runs have no history.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/host.sh
start_host runs_bench_reads 5092
pg_env
if seed_needed runs.mt_doc_run 1000000 "1,000,000 runs across 100 jobs" runs.mt_doc_run; then
  psql -q <<'SQL'
insert into runs.mt_doc_run (id, data, mt_dotnet_type, mt_version, job, status, created__on, completed__on, duration)
select id, jsonb_build_object(
         'id', id, 'job', job, 'status', status, 'version', 3, 'trigger', 'schedule', 'source', null,
         'created_by', 'bench', 'created_on', created, 'started_on', created + interval '1 second',
         'completed_on', completed, 'last_modified', coalesce(completed, created), 'duration', duration,
         'exit_code', case when status = 'succeeded' then 0 when status = 'failed' then 1 end,
         'env', '[]'::jsonb, 'labels', '{}'::jsonb, 'input_files', '[]'::jsonb, 'telemetry_summary', '{}'::jsonb,
         'last_error_lines', '[]'::jsonb, 'log_lines', 0, 'log_lines_dropped', 0, 'last_line_id', 0, 'has_output', false),
       'Runs.Domain.Run', 3, job, status, created, completed, duration
from (
  select to_char(created at time zone 'UTC', 'YYYYMMDD-HH24MISS') || '-' || lpad(to_hex(g), 16, '0') as id,
         'job-' || lpad((g % 100)::text, 3, '0') as job,
         case when g % 10 = 0 then 'failed' when g % 37 = 0 then 'canceled' else 'succeeded' end as status,
         created,
         created + interval '1 second' + (g % 600) * interval '1 second' as completed,
         1 + (g % 600)::double precision as duration
  from (select g, timestamptz '2025-06-01T00:00:00Z' + g * interval '30 seconds' as created
        from generate_series(1, 1000000) g) s
) runs;
analyze runs.mt_doc_run;
SQL
fi


say "measuring reads (200 sequential requests each, after 20 warm-up)"
result="$("${bench[@]}" reads --url "$url" --token "$token")"
mkdir -p bench/results
python3 -c 'import json,sys,datetime; print(json.dumps({"date": datetime.date.today().isoformat(), "reads": json.loads(sys.argv[1])}))' "$result" \
  | tee -a bench/results/reads.jsonl
