#!/usr/bin/env bash
# Install the system packages the tests need: Dovecot (IMAP + POP3), openssl, and Chromium
# (the report is rendered headless and its screenshot checked).
#
# Idempotent: does nothing when `dovecot`, `doveadm`, `openssl` and `chromium` are already on
# PATH. The tests start their own Dovecot from a private config, so the packaged system service
# must not start: a policy-rc.d that refuses service starts is in place for the duration of the
# install (and an existing one is left alone).
set -euo pipefail

have() {
    # sbin may be missing from a non-root PATH; dovecot lives in /usr/sbin
    PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin" command -v "$1" >/dev/null 2>&1
}

need=()
have dovecot || need+=(dovecot-imapd dovecot-pop3d)
have doveadm || need+=(dovecot-core)
have openssl || need+=(openssl)
have chromium || need+=(chromium)
if [ "${#need[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        exec sudo -n "$0" "$@"
    fi
    echo "install-system-deps: need root to install ${need[*]} (or install them yourself)" >&2
    exit 1
fi

policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary: keep apt from starting services\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    added_policy=1
fi
cleanup() {
    if [ "$added_policy" -eq 1 ]; then
        rm -f "$policy"
    fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "install-system-deps: installing ${need[*]}" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Belt and braces: if an init system started the packaged service anyway, stop it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
    systemctl stop dovecot || true
    systemctl disable dovecot >/dev/null 2>&1 || true
fi
