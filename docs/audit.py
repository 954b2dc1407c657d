#!/usr/bin/env python3
"""Check a runs-export/1 file (docs/ledger.md) without the service: Python 3 standard library only.

    python3 docs/audit.py export.ndjson
    python3 docs/audit.py export.ndjson --checkpoint checkpoint.json --heads heads.json [--statement out.txt]

Recomputes every event's hash from its canonical encoding and checks the links, each log batch's digest
and error lines, and each file's bytes. With a checkpoint (GET /v1/ledger/checkpoints/{id}) and its heads
(GET .../{id}/heads), also recomputes the checkpoint's root and checks that every exported run listed in it
still has the head it had; --statement writes the bytes its signature covers, for
`openssl dgst -sha256 -verify key.pem -signature sig.der statement.txt`. Exit code 1 when anything fails.
"""
import base64, hashlib, json, sys


class Number(str):
    """A JSON number kept as its text, so nothing is lost to floating point."""


def number(text):
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("-").lower()
    mantissa, _, exponent = body.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits, point = whole + fraction, len(whole) + int(exponent or 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    if not digits:
        return "0"
    if point <= 0:
        plain = "0." + "0" * -point + digits
    elif point >= len(digits):
        plain = digits + "0" * (point - len(digits))
    else:
        plain = digits[:point] + "." + digits[point:]
    return sign + plain


def string(text):
    out = ['"']
    for c in text:
        out.append('\\"' if c == '"' else "\\\\" if c == "\\" else "\\u%04x" % ord(c) if ord(c) < 0x20 else c)
    return "".join(out) + '"'


def canonical(value):
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-8"))
        return "{" + ",".join(string(k) + ":" + canonical(v) for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, Number):
        return number(value)
    if isinstance(value, str):
        return string(value)
    return {True: "true", False: "false", None: "null"}[value]


def event_hash(run, e, previous):
    data = dict(e["data"])
    if e["type"] == "LogAppended":
        data.pop("error_lines", None)  # purgeable: it enters the chain through the batch's sha256
    meta = e["metadata"]
    envelope = {"data": data, "stream": run, "type": e["type"], "version": Number(str(e["version"])),
                "timestamp": e["timestamp"][:23] + "Z",  # the chain covers milliseconds
                "metadata": {k: meta[k] for k in ("causation_id", "correlation_id", "user")}}
    return hashlib.sha256((previous or "").encode("ascii") + canonical(envelope).encode("utf-8")).hexdigest()


def line_bytes(line):
    at = line["at"][:26] + "0Z"  # .NET's round-trip form: seven fractional digits
    return "%d\x1f%s\x1f%s\x1f%d\x1f%s\x1e" % (line["id"], at, line["level"], 1 if line["internal"] else 0, line["message"])


def check_run(run, events, lines, files, problems):
    def problem(text):
        problems.append("%s %s" % (run["run"], text))
    previous, expired, batches, expected = None, False, [], {}
    for i, e in enumerate(events):
        if e["version"] != i + 1:
            problem("event %d: versions must count from 1 without gaps" % e["version"])
        if e["previous_hash"] != previous:
            problem("event %d: previous_hash is not the hash before it" % e["version"])
        if event_hash(run["run"], e, e["previous_hash"]) != e["hash"]:
            problem("event %d (%s): does not hash to its hash" % (e["version"], e["type"]))
        previous, data = e["hash"], e["data"]
        if e["type"] == "LogAppended" and data.get("first_line_id") is not None:
            batches.append((e["version"], int(data["first_line_id"]), int(data["last_line_id"]), data["sha256"], data.get("error_lines", [])))
        elif e["type"] == "Triggered":
            expected.update({("input", f["name"]): f for f in data.get("input_files", [])})
        elif e["type"] == "OutputAttached":
            expected = {k: v for k, v in expected.items() if k[0] != "output"}
            expected.update({("output", f["name"]): f for f in data["files"]})
        elif e["type"] == "RetentionExpired":
            expired = True
    if previous != run["head"]:
        problem("its events do not end at the run's head")
    if expired:
        expected, batches = {}, [b for b in batches if b[4]]
        for b in batches:
            problem("event %d: error lines kept after retention purged the log" % b[0])
        batches = []
    by_id = {l["id"]: l for l in lines}
    for version, first, last, sha256, errors in batches:
        batch = [by_id.pop(i, None) for i in range(first, last + 1)]
        if None in batch:
            problem("event %d: lines %d-%d are not all there" % (version, first, last))
            continue
        if hashlib.sha256("".join(line_bytes(l) for l in batch).encode("utf-8")).hexdigest() != sha256:
            problem("event %d: lines %d-%d do not match its sha256" % (version, first, last))
        if [l["message"] for l in batch if l["level"] == "error" and not l["internal"]][-5:] != errors:
            problem("event %d: its error lines are not the batch's" % version)
    for line_id in by_id:
        problem("line %d: no event wrote it" % line_id)
    for key, (meta, content, size) in files.items():
        want = expected.pop(key, None)
        if want is None or content.hexdigest() != want["sha256"] or meta["sha256"] != want["sha256"] or size != int(want["size"]):
            problem("file %s/%s: its bytes are not those its event recorded" % key)
    for key in expected:
        problem("file %s/%s: missing" % key)


def read(path):
    with open(path, encoding="utf-8") as f:
        for text in f:
            yield json.loads(text, parse_float=Number, parse_int=Number)


def audit(path):
    problems, heads, records = [], {}, list(read(path))
    if not records or records[0].get("record") != "header" or records[0].get("format") != "runs-export/1":
        return ["not a runs-export/1 file"], heads
    if records[-1].get("record") != "end" or int(records[-1]["records"]) != len(records):
        problems.append("the file is cut short or has records missing")
    run = None
    for r in records[1:] + [{"record": "run"}]:
        kind = r["record"]
        if kind in ("run", "end") and run:
            check_run(run[0], run[1], run[2], run[3], problems)
            heads[run[0]["run"]] = {int(e["version"]): e["hash"] for e in run[1]}
            run = None
        if kind == "run" and "run" in r:
            run = (r, [], [], {})
        elif kind == "event":
            r["version"] = int(r["version"])
            run[1].append(r)
        elif kind == "log_line":
            r["id"] = int(r["id"])
            run[2].append(r)
        elif kind == "file":
            run[3][(r["kind"], r["name"])] = [r, hashlib.sha256(), 0]
        elif kind == "chunk":
            file, data = run[3][(r["kind"], r["name"])], base64.b64decode(r["data"])
            file[1].update(data)
            file[2] += len(data)
    return problems, heads


def merkle(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + merkle(leaves[:k]) + merkle(leaves[k:])).digest()


def check_checkpoint(checkpoint, listed, exported, problems):
    listed = sorted(listed, key=lambda h: h["run"].encode("utf-8"))
    tree = merkle([hashlib.sha256(b"\x00" + ("%s %s" % (h["run"], h["hash"])).encode("utf-8")).digest() for h in listed])
    previous = bytes.fromhex(checkpoint["previous_root"]) if checkpoint["previous_root"] else b""
    if hashlib.sha256(b"\x02" + previous + tree).hexdigest() != checkpoint["root"] or len(listed) != int(checkpoint["runs"]):
        problems.append("checkpoint %s: its heads do not give its root" % checkpoint["id"])
    for h in listed:
        if h["run"] in exported and exported[h["run"]].get(int(h["version"])) != h["hash"]:
            problems.append("%s: not the head checkpoint %s recorded at version %s" % (h["run"], checkpoint["id"], h["version"]))


def statement(c):
    return "runs-checkpoint/1\nid %s\nat %s\nruns %s\nroot %s\nprevious_root %s\nkey_id %s\n" % (
        c["id"], c["at"], c["runs"], c["root"], c["previous_root"] or "-", c["key_id"])


def main(argv):
    args = dict(zip(argv[2::2], argv[3::2]))
    problems, exported = audit(argv[1])
    if "--checkpoint" in args:
        with open(args["--checkpoint"]) as c, open(args["--heads"]) as h:
            checkpoint = json.load(c)
            check_checkpoint(checkpoint, json.load(h)["heads"], exported, problems)
        if "--statement" in args:
            with open(args["--statement"], "w", encoding="utf-8", newline="") as s:
                s.write(statement(checkpoint))
    for p in problems:
        print(p)
    print("%d runs checked, %s" % (len(exported), "%d problems" % len(problems) if problems else "all verified"), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
