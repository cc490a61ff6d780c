#!/usr/bin/env bash
# Refreshes shared/certs/rds-ca-bundle.pem, the Amazon RDS CA certificates
# that every MySQL connection trusts besides the public roots (a direct
# connection to an RDS instance needs them; RDS Proxy does not).
#
#   scripts/update_rds_ca.sh          download Amazon's global bundle
#   scripts/update_rds_ca.sh FILE     use a copy of it already on disk
#
# Keeps only the certificates that are Amazon RDS CAs and have not expired;
# prints what it kept. Needs curl and openssl; not run in CI (no internet).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

url=https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
out=shared/certs/rds-ca-bundle.pem
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if (($# == 0)); then
  curl --fail --silent --show-error --proto '=https' --tlsv1.2 -o "$tmp/global.pem" "$url"
  source=$url
elif (($# == 1)); then
  cp "$1" "$tmp/global.pem"
  source=$1
else
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi

# One file per certificate.
awk -v dir="$tmp" '
  /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/cert-%04d.pem", dir, n) }
  file { print > file }
  /-----END CERTIFICATE-----/ { close(file); file = "" }
' "$tmp/global.pem"

kept=0 expired=0 foreign=0
: >"$tmp/bundle.pem"
for cert in "$tmp"/cert-*.pem; do
  [[ -e $cert ]] || break
  subject=$(openssl x509 -in "$cert" -noout -subject -nameopt RFC2253)
  if [[ $subject != *"OU=Amazon RDS"* ]]; then
    foreign=$((foreign + 1))
    echo "update_rds_ca.sh: not an Amazon RDS CA, left out: $subject" >&2
  elif ! openssl x509 -in "$cert" -noout -checkend 0 >/dev/null; then
    expired=$((expired + 1))
  else
    openssl x509 -in "$cert" >>"$tmp/bundle.pem"
    kept=$((kept + 1))
  fi
done
if ((kept == 0)); then
  echo "update_rds_ca.sh: no valid Amazon RDS CA in $source" >&2
  exit 1
fi
mv "$tmp/bundle.pem" "$out"
echo "update_rds_ca.sh: $out: $kept certificates from $source ($expired expired and $foreign others left out)"
