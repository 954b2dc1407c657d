#!/usr/bin/env bash
# Log search benchmark over 3,000,000 log lines (30,000 runs in 100 jobs, 100 lines each): p50/p99 of
# searches for rare, common and absent text, within a job, with a run filter and deep in the pages,
# each beside the bare SQL for the same rows (same run); the trigram index's build time and size; and what
# the index costs log ingest: 8 writers of 100-line batches with the index, then with it dropped (it is
# built again at the end).
#   bench/search.sh          seeds database runs_bench_search once (a few minutes), then measures
#
# Seeding writes run documents and log lines straight into their tables with SQL (the search reads only
# those two); it writes no events, so these runs have no history. The index is dropped for the bulk
# insert and built again afterwards, as a migration of an existing database would build it.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/host.sh
export Runs__Logs__MaxLinesPerRun=100000000
start_host runs_bench_search 5093
pg_env
if seed_needed runs.log_lines 3000000 "30,000 runs and 3,000,000 log lines" "runs.mt_doc_run, runs.log_lines"; then
  psql -q <<'SQL'
create temporary table seed_runs as
select g as n, id, job, status, created,
       created + interval '1 second' + (g % 600) * interval '1 second' as completed,
       1 + (g % 600)::double precision as duration
from (
  select g, to_char(created at time zone 'UTC', 'YYYYMMDD-HH24MISS') || '-' || lpad(to_hex(g), 16, '0') as id,
         'job-' || lpad((g % 100)::text, 3, '0') as job,
         case when g % 10 = 0 then 'failed' when g % 37 = 0 then 'canceled' else 'succeeded' end as status,
         created
  from (select g, timestamptz '2026-01-01T00:00:00Z' + g * interval '60 seconds' as created from generate_series(1, 30000) g) s
) runs;

insert into runs.mt_doc_run (id, data, mt_dotnet_type, mt_version, job, status, created__on, completed__on, duration)
select id, jsonb_build_object(
         'id', id, 'job', job, 'status', status, 'version', 3, 'trigger', 'schedule', 'source', null,
         'created_by', 'bench', 'created_on', created, 'started_on', created + interval '1 second',
         'completed_on', completed, 'last_modified', completed, 'duration', duration,
         'exit_code', case when status = 'succeeded' then 0 when status = 'failed' then 1 end,
         'env', '[]'::jsonb, 'labels', '{}'::jsonb, 'input_files', '[]'::jsonb, 'telemetry_summary', '{}'::jsonb,
         'last_error_lines', '[]'::jsonb, 'log_lines', 100, 'log_lines_dropped', 0, 'last_line_id', 100, 'has_output', false),
       'Runs.Domain.Run', 3, job, status, created, completed, duration
from seed_runs;

drop index if exists runs.log_lines_message_trgm;
-- Lines look like an ETL's: a verb, a count, a table, a time; 1 in 100 a connection reset, about 1 in 10,000 a checksum
-- mismatch (spread over every job). Each run's lines are stored together, as appends of 100-line batches store them.
insert into runs.log_lines (run_id, line_id, at, level, message, internal)
select r.id, l, r.created + l * interval '100 milliseconds',
       case when (r.n * 100 + l) % 100 = 3 then 2 when l % 97 = 0 then 3 when l % 5 = 0 then 0 else 1 end,
       case
         when (r.n * 100 + l) % 10007 = 7 then 'checksum mismatch in block ' || l || ' of segment ' || r.n
         when (r.n * 100 + l) % 100 = 3 then 'connection reset by peer while reading from warehouse-' || (r.n % 7)
         else (array['loaded','extracted','merged','skipped','validated','exported','indexed'])[1 + (r.n + l) % 7]
              || ' ' || ((r.n * 31 + l * 17) % 5000) || ' rows from '
              || (array['orders','customers','invoices','payments','shipments','products','events','sessions','accounts','ledger','refunds','stock','returns'])[1 + (r.n * 7 + l) % 13]
              || ' in ' || ((r.n + l * 13) % 997) || ' ms (batch ' || l || ')'
       end,
       l % 500 = 0
from seed_runs r cross join generate_series(1, 100) l
order by r.n, l;
SQL
  say "building the trigram index"
  started=$(date +%s.%N)
  psql -q -c "create index log_lines_message_trgm on runs.log_lines using gin (message gin_trgm_ops)"
  build_seconds="$(python3 -c "import sys; print(round($(date +%s.%N) - $started, 1))")"
  psql -q -c "analyze runs.log_lines" -c "analyze runs.mt_doc_run"
  echo "{\"index_build_seconds\": $build_seconds}" > /tmp/runs-bench-search-build.json
fi
sizes="$(psql -tAc "select json_build_object('lines', (select count(*) from runs.log_lines),
  'table_mb', round(pg_table_size('runs.log_lines') / 1048576.0), 'trigram_index_mb', round(pg_relation_size('runs.log_lines_message_trgm') / 1048576.0))")"

say "measuring searches (50 sequential requests each, after 5 warm-up)"
result="$("${bench[@]}" search --url "$url" --token "$token")"

say "log ingest with the trigram index: 8 writers, 100-line batches, 15 s"
with_index="$("${bench[@]}" logs --url "$url" --token "$token" --clients 8 --seconds 15)"
psql -q -c "drop index runs.log_lines_message_trgm"
say "log ingest without it"
without_index="$("${bench[@]}" logs --url "$url" --token "$token" --clients 8 --seconds 15)"
stop_host
say "building the trigram index again"
psql -q -c "create index log_lines_message_trgm on runs.log_lines using gin (message gin_trgm_ops)"
mkdir -p bench/results
python3 -c 'import json,sys,datetime,os; build="/tmp/runs-bench-search-build.json"; print(json.dumps({"date": datetime.date.today().isoformat(), "sizes": json.loads(sys.argv[1]), "build": json.load(open(build)) if os.path.exists(build) else {}, "search": json.loads(sys.argv[2]), "ingest_with_index": json.loads(sys.argv[3]), "ingest_without_index": json.loads(sys.argv[4])}))' "$sizes" "$result" "$with_index" "$without_index" \
  | tee -a bench/results/search.jsonl
