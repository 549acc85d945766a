#!/usr/bin/env bash
# make-certs.sh: the certificates of an egress gateway cluster (openssl).
#
# The role of a certificate is its Organizational Unit: OU=node, OU=observer, OU=operator or
# OU=viewer (docs/security.md). Node certificates have CN = the node name and SAN DNS:<name> plus
# the --ip/--dns given; the observer certificate (one for every worker) CN=observer and SAN
# DNS:observer; client certificates have CN = the person or tool.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: make-certs.sh [--dir DIR] [--days N] [--force] COMMAND [ARGS]

Commands (the CA is made by the first command that needs it; nothing is remade when it is
already right, so running a command twice changes nothing):
  ca                               DIR/ca.pem, DIR/ca-key.pem (keep ca-key.pem offline)
  node NAME [--ip IP]... [--dns HOST]...
                                   DIR/NAME/{ca.pem,node.pem,node-key.pem}: OU=node, CN=NAME,
                                   SAN DNS:NAME plus every --ip/--dns (the addresses consoles and
                                   egressctl connect to, e.g. the node's cluster address)
  observer                         DIR/observer/{ca.pem,node.pem,node-key.pem}: OU=observer,
                                   CN=observer, SAN DNS:observer. One certificate shared by
                                   every worker (an agent that neither votes nor stands): it may
                                   report its own status and hear who is master, nothing else
  operator [NAME]                  DIR/NAME/{ca.pem,client.pem,client-key.pem}: OU=operator,
                                   CN=NAME (default NAME: operator). May do everything.
  viewer [NAME]                    the same with OU=viewer (default NAME: viewer). Watch and
                                   ListEvents only.
  show NAME                        subject, SANs, validity and role of DIR/NAME's certificate

Options:
  --dir DIR    where the files go (default: ./certs)
  --days N     validity of new certificates in days (default: 825; the CA: 3650)
  --force      remake the certificate even when the existing one is right
  -h, --help   this text

Use:
  agent.yaml   tls: { ca: DIR/egress-1/ca.pem, cert: DIR/egress-1/node.pem, key: DIR/egress-1/node-key.pem }
  worker.yaml  tls: { ca: DIR/observer/ca.pem, cert: DIR/observer/node.pem, key: DIR/observer/node-key.pem }
  egressctl    egressctl --tls-dir DIR/operator --endpoint 10.0.0.11:7401 handover
  console      egress-console --tls-dir DIR/viewer --endpoint 10.0.0.11:7401

Example (three nodes reached at their cluster addresses):
  make-certs.sh --dir /etc/egress-gateway/certs node egress-1 --ip 10.0.0.11
  make-certs.sh --dir /etc/egress-gateway/certs node egress-2 --ip 10.0.0.12
  make-certs.sh --dir /etc/egress-gateway/certs operator alice
  make-certs.sh --dir /etc/egress-gateway/certs viewer dashboard

An existing certificate that differs from what is asked (other SANs, another role, or not signed
by DIR/ca.pem) is remade and the change is printed. Private keys are written mode 0600.
EOF
}

die() { echo "make-certs.sh: $*" >&2; exit 1; }
usage_error() { echo "make-certs.sh: $*" >&2; echo "Try make-certs.sh --help" >&2; exit 2; }
say() { echo "make-certs.sh: $*" >&2; }

DIR=./certs
DAYS=825
FORCE=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --dir) [[ $# -ge 2 ]] || usage_error "--dir needs a directory"; DIR=$2; shift 2 ;;
    --days) [[ $# -ge 2 && $2 =~ ^[0-9]+$ && $2 -gt 0 ]] || usage_error "--days needs a positive number"; DAYS=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    --) shift; break ;;
    -*) usage_error "unknown option $1" ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || { usage >&2; exit 2; }
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"
CMD=$1
shift

valid_name() { [[ $1 =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]]; }

make_ca() {
  mkdir -p "$DIR"
  if [[ -f $DIR/ca.pem && -f $DIR/ca-key.pem ]]; then return 0; fi
  [[ -f $DIR/ca.pem || -f $DIR/ca-key.pem ]] && die "$DIR has only one of ca.pem and ca-key.pem; remove it or restore the other"
  (umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$DIR/ca-key.pem.tmp" 2>/dev/null)
  openssl req -new -x509 -key "$DIR/ca-key.pem.tmp" -days 3650 -subj "/O=egress-gateway/CN=egress-gateway cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$DIR/ca.pem.tmp" 2>/dev/null || die "cannot make the CA in $DIR"
  mv "$DIR/ca-key.pem.tmp" "$DIR/ca-key.pem"
  mv "$DIR/ca.pem.tmp" "$DIR/ca.pem"
  say "made the cluster CA $DIR/ca.pem"
}

# What a certificate says, normalised for comparison: "subject|SANs".
describe_cert() {
  local subj san
  subj=$(openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//') || return 1
  san=$(openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ' | tr ',' '\n' |
        sed 's/^IPAddress:/IP:/' | sort | paste -sd, -)
  echo "$subj|$san"
}

# issue NAME ROLE CERTFILE KEYFILE SAN...  (SAN entries as DNS:x / IP:x)
issue() {
  local name=$1 role=$2 certname=$3 keyname=$4
  shift 4
  local out="$DIR/$name" eku
  local sans=("$@")
  if [[ $role == node || $role == observer ]]; then eku="serverAuth,clientAuth"; else eku="clientAuth"; fi
  local subj="/O=egress-gateway/OU=$role/CN=$name"
  local want_san=""
  if [[ ${#sans[@]} -gt 0 ]]; then want_san=$(printf '%s\n' "${sans[@]}" | sort | paste -sd, -); fi
  local want="CN=$name,OU=$role,O=egress-gateway|$want_san"
  make_ca
  mkdir -p "$out"
  if [[ -f $out/$certname && -f $out/$keyname && $FORCE == 0 ]]; then
    local have
    have=$(describe_cert "$out/$certname" || echo "unreadable")
    if [[ $have == "$want" ]] && openssl verify -CAfile "$DIR/ca.pem" "$out/$certname" >/dev/null 2>&1 &&
       cmp -s "$DIR/ca.pem" "$out/ca.pem"; then
      say "$out/$certname is up to date ($role, CN=$name)"
      return 0
    fi
    if ! openssl verify -CAfile "$DIR/ca.pem" "$out/$certname" >/dev/null 2>&1; then
      say "$out/$certname is not signed by $DIR/ca.pem: remaking it"
    elif [[ $have != "$want" ]]; then
      say "$out/$certname says '$have', asked for '$want': remaking it"
    fi
  fi
  # A node directory and a client directory must not share a name.
  for other in node.pem client.pem; do
    if [[ $other != "$certname" && -f $out/$other ]]; then
      die "$out already holds a $( [[ $other == node.pem ]] && echo node || echo client ) certificate ($out/$other); pick another name"
    fi
  done
  local ext
  ext=$(mktemp)
  trap 'rm -f "$ext"' RETURN
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    if [[ ${#sans[@]} -gt 0 ]]; then echo "subjectAltName=$(printf '%s\n' "${sans[@]}" | paste -sd, -)"; fi
  } > "$ext"
  (umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$out/$keyname.tmp" 2>/dev/null)
  openssl req -new -key "$out/$keyname.tmp" -subj "$subj" 2>/dev/null |
    openssl x509 -req -CA "$DIR/ca.pem" -CAkey "$DIR/ca-key.pem" -CAcreateserial -CAserial "$DIR/ca.srl" \
      -days "$DAYS" -extfile "$ext" -out "$out/$certname.tmp" 2>/dev/null || die "cannot sign $out/$certname"
  mv "$out/$keyname.tmp" "$out/$keyname"
  mv "$out/$certname.tmp" "$out/$certname"
  cp "$DIR/ca.pem" "$out/ca.pem.tmp" && mv "$out/ca.pem.tmp" "$out/ca.pem"
  say "made $out/$certname ($role, CN=$name${want_san:+, SAN $want_san})"
}

case $CMD in
  ca)
    [[ $# -eq 0 ]] || usage_error "ca takes no arguments"
    make_ca
    ;;
  node)
    [[ $# -ge 1 ]] || usage_error "node needs a NAME"
    name=$1; shift
    valid_name "$name" || usage_error "node name '$name': 1-63 characters of [a-z0-9-], starting and ending alphanumeric (as in agent.yaml node.name)"
    sans=("DNS:$name")
    while [[ $# -gt 0 ]]; do
      case $1 in
        --ip)
          [[ $# -ge 2 ]] || usage_error "--ip needs an address"
          [[ $2 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ || $2 =~ : ]] || usage_error "--ip: not an IP address: '$2'"
          sans+=("IP:$2"); shift 2 ;;
        --dns)
          [[ $# -ge 2 && -n $2 ]] || usage_error "--dns needs a host name"
          sans+=("DNS:$2"); shift 2 ;;
        *) usage_error "node: unknown argument '$1' (expected --ip IP or --dns HOST)" ;;
      esac
    done
    # The same SAN twice is one SAN.
    mapfile -t sans < <(printf '%s\n' "${sans[@]}" | awk '!seen[$0]++')
    issue "$name" node node.pem node-key.pem "${sans[@]}"
    ;;
  observer)
    [[ $# -eq 0 ]] || usage_error "observer takes no arguments (one certificate for every worker, CN=observer)"
    issue observer observer node.pem node-key.pem "DNS:observer"
    ;;
  operator|viewer)
    name=${1:-$CMD}
    [[ $# -le 1 ]] || usage_error "$CMD takes at most one NAME"
    valid_name "$name" || usage_error "$CMD name '$name': 1-63 characters of [a-z0-9-], starting and ending alphanumeric"
    issue "$name" "$CMD" client.pem client-key.pem
    ;;
  show)
    [[ $# -eq 1 ]] || usage_error "show needs a NAME"
    for f in "$DIR/$1/node.pem" "$DIR/$1/client.pem"; do
      if [[ -f $f ]]; then
        openssl x509 -in "$f" -noout -subject -nameopt RFC2253 -ext subjectAltName -startdate -enddate
        openssl verify -CAfile "$DIR/ca.pem" "$f"
        exit 0
      fi
    done
    die "no certificate for '$1' in $DIR ($DIR/$1/node.pem or client.pem)"
    ;;
  *) usage_error "unknown command '$CMD'" ;;
esac
