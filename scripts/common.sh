# Shared by run.sh and test.sh.
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

free_port() { # a TCP port on loopback that nothing listens on and no cluster claims
  local port
  for port in $(seq "$1" $(( $1 + 200 ))); do
    pg_lsclusters -h 2>/dev/null | awk "{print \$3}" | grep -qx "$port" && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    echo "$port"; return 0
  done
  return 1
}

require_dotnet() {
  command -v dotnet >/dev/null || die "the .NET SDK (10.0) is not on PATH; install it first: https://dot.net"
}

# Secret env values are encrypted with a key from configuration. For local runs a random key is
# made once and kept in .runs/dev-secrets.env (ignored by git); production sets its own (docs/operations.md).
# load_dev_checkpoint_key: a local ledger checkpoint key (ECDSA P-256) for hosts outside Development.
load_dev_checkpoint_key() {
  if [[ -z "${Runs__Ledger__CurrentSigningKeyId:-}" ]]; then
    mkdir -p .runs
    if [[ ! -f .runs/dev-checkpoint-key.pem ]]; then
      say "making a local checkpoint signing key in .runs/dev-checkpoint-key.pem"
      (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out .runs/dev-checkpoint-key.pem 2>/dev/null) \
        || die "openssl could not make a checkpoint key"
    fi
    export Runs__Ledger__CurrentSigningKeyId=local
    Runs__Ledger__SigningKeys__local="$(cat .runs/dev-checkpoint-key.pem)"
    export Runs__Ledger__SigningKeys__local
  fi
}

load_dev_secret_key() {
  if [[ -z "${Runs__Secrets__CurrentKeyId:-}" ]]; then
    mkdir -p .runs
    if [[ ! -f .runs/dev-secrets.env ]]; then
      say "making a local secret-encryption key in .runs/dev-secrets.env"
      local key
      key="$(head -c 32 /dev/urandom | base64)"
      printf 'export Runs__Secrets__CurrentKeyId=local\nexport Runs__Secrets__Keys__local=%s\n' "$key" > .runs/dev-secrets.env
      chmod 600 .runs/dev-secrets.env
    fi
    # shellcheck disable=SC1091
    source .runs/dev-secrets.env
  fi
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@";
  elif command -v sudo >/dev/null; then sudo "$@";
  else die "need root (or sudo) to run: $*"; fi
}
