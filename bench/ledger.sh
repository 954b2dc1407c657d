#!/usr/bin/env bash
# Ledger benchmark: chaining, verifying and checkpointing 100,000 runs; export memory for a job with
# 1,000,000 log lines beside one with 10,000.
#   bench/ledger.sh          seeds database runs_bench_ledger once (a few minutes), then measures
#
# Seeding writes streams, events and log lines straight into the tables with SQL (batch digests computed
# in SQL exactly as the service computes them), and run documents only for the two export jobs; the links
# are then made by `ledger chain`, which is measured too. Every command runs as an operator runs it, under
# /usr/bin/time (wall time, peak resident memory).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/host.sh
connection="$(scripts/postgres.sh runs_bench_ledger)" || die "PostgreSQL is not available"
export ConnectionStrings__Runs="$connection"
load_dev_secret_key
load_dev_checkpoint_key
export ASPNETCORE_ENVIRONMENT=Staging Logging__LogLevel__Default=Warning
say "building host (Release)"
dotnet build src/Runs.Host -c Release -v quiet -nologo >&2
host=(dotnet src/Runs.Host/bin/Release/net10.0/Runs.Host.dll)
"${host[@]}" db-apply >/dev/null
pg_env

if [[ "$(psql -tAc "select count(*) from runs.mt_streams")" -lt 100020 ]]; then
  say "seeding 100,000 runs (10 lines each) and two export jobs: big (10 runs x 100,000 lines), small (10 x 1,000)"
  psql -q -c "truncate runs.mt_streams, runs.mt_events, runs.log_lines, runs.ledger_events, runs.ledger_checkpoints, runs.ledger_checkpoint_heads, runs.mt_doc_run cascade"
  psql -q <<'SQL'
create temp table seed as
select to_char(created at time zone 'UTC', 'YYYYMMDD-HH24MISS') || '-' || lpad(to_hex(g), 16, '0') as id, job, created, batches, per_batch
from (
  select g, timestamptz '2026-01-01T00:00:00Z' + g * interval '30 seconds' as created,
         case when g <= 100000 then 'job-' || lpad((g % 100)::text, 3, '0') when g <= 100010 then 'big' else 'small' end as job,
         case when g <= 100000 then 1 when g <= 100010 then 100 else 10 end as batches,
         case when g <= 100000 then 10 when g <= 100010 then 1000 else 100 end as per_batch
  from generate_series(1, 100020) g) s;

insert into runs.log_lines (run_id, line_id, at, level, message, internal)
select s.id, l, s.created + interval '1 second' + l * interval '1 millisecond', 1,
       'line ' || l || ' of a benchmark run: about ninety characters of ordinary log text, lorem ipsum', false
from seed s, generate_series(1, s.batches * s.per_batch) l;

create temp table batch as
select s.id, b, s.per_batch, s.created + interval '2 seconds' as at,
       (select encode(sha256(convert_to(string_agg(
                  l.line_id || chr(31) || to_char(l.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '0Z' || chr(31) ||
                  'info' || chr(31) || '0' || chr(31) || l.message || chr(30), '' order by l.line_id), 'UTF8')), 'hex')
        from runs.log_lines l where l.run_id = s.id and l.line_id between (b - 1) * s.per_batch + 1 and b * s.per_batch) as sha256
from seed s, generate_series(1, s.batches) b;

insert into runs.mt_streams (id, type, version, timestamp, created, tenant_id, is_archived)
select id, 'run', batches + 3, created, created, '*DEFAULT*', false from seed;

insert into runs.mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, is_archived, user_name, correlation_id, causation_id)
select nextval('runs.mt_events_sequence'), gen_random_uuid(), e.id, e.version, e.data, e.type, date_trunc('milliseconds', e.at), '*DEFAULT*',
       'Runs.Domain.' || e.clr || ', Runs.Domain', false, 'bench', 'bench-' || e.id, null
from (
  select id, 1 as version, 'triggered' as type, 'Triggered' as clr, created as at,
         jsonb_build_object('run_id', id, 'job', job, 'trigger', 'schedule', 'source', null, 'input', null, 'argv', null, 'command', null,
                            'entrypoint', null, 'env', '[]'::jsonb, 'labels', '{}'::jsonb, 'previous_run', null, 'input_files', '[]'::jsonb,
                            'created_by', 'bench', 'at', created) as data
  from seed
  union all
  select id, 2, 'started', 'Started', created + interval '1 second', jsonb_build_object('run_id', id, 'runner', 'bench', 'at', created + interval '1 second') from seed
  union all
  select id, 2 + b, 'log_appended', 'LogAppended', at,
         jsonb_build_object('run_id', id, 'first_line_id', (b - 1) * per_batch + 1, 'last_line_id', b * per_batch, 'appended', per_batch,
                            'dropped', 0, 'error_lines', '[]'::jsonb, 'sha256', sha256, 'at', at) from batch
  union all
  select id, batches + 3, 'succeeded', 'Succeeded', created + interval '3 seconds', jsonb_build_object('run_id', id, 'exit_code', 0, 'at', created + interval '3 seconds') from seed
) e;

insert into runs.mt_doc_run (id, data, mt_dotnet_type, mt_version, job, status, created__on, completed__on, duration)
select id, jsonb_build_object('id', id, 'job', job, 'status', 'succeeded', 'version', batches + 3), 'Runs.Domain.Run', 3, job, 'succeeded', created, created + interval '3 seconds', 2
from seed where job in ('big', 'small');
analyze runs.mt_streams, runs.mt_events, runs.log_lines, runs.mt_doc_run;
SQL
fi

# timed <label> <command...>: runs it under /usr/bin/time; sets $seconds and $peak_mb.
timed() {
  local label="$1"; shift
  say "$label"
  /usr/bin/time -f '%e %M' -o /tmp/runs-bench-time "$@" || say "($label exited $?)"
  read -r seconds peak_kb < /tmp/runs-bench-time
  peak_mb="$(awk -v k="$peak_kb" 'BEGIN { printf "%.0f", k / 1024 }')"
  printf '%s: %s s, peak RSS %s MB\n' "$label" "$seconds" "$peak_mb" >&2
}

results=()
record() { results+=("\"$1\": {\"seconds\": $seconds, \"peak_rss_mb\": $peak_mb${2:+, $2}}"); }

psql -q -c "truncate runs.ledger_events, runs.ledger_checkpoints, runs.ledger_checkpoint_heads"
timed "ledger chain (100,020 runs, 401,160 events)" "${host[@]}" ledger chain >/dev/null
record chain
timed "verify (100,020 runs, 2,010,000 log lines)" "${host[@]}" verify >/tmp/runs-bench-verify.txt 2>/dev/null
record verify "\"problems\": $(wc -l < /tmp/runs-bench-verify.txt)"
timed "ledger checkpoint (100,020 runs)" "${host[@]}" ledger checkpoint >/dev/null
record checkpoint
timed "ledger verify (100,020 runs)" "${host[@]}" ledger verify >/dev/null 2>&1
record ledger_verify
timed "export --job big (10 runs, 1,000,000 lines)" "${host[@]}" export --job big --out /tmp/runs-bench-big.ndjson 2>/dev/null
record export_big "\"bytes\": $(stat -c %s /tmp/runs-bench-big.ndjson)"
timed "export --job small (10 runs, 10,000 lines)" "${host[@]}" export --job small --out /tmp/runs-bench-small.ndjson 2>/dev/null
record export_small "\"bytes\": $(stat -c %s /tmp/runs-bench-small.ndjson)"
rm -f /tmp/runs-bench-big.ndjson /tmp/runs-bench-small.ndjson

mkdir -p bench/results
line="{\"date\": \"$(date +%F)\", $(IFS=,; echo "${results[*]}")}"
echo "$line" | tee -a bench/results/ledger.jsonl
