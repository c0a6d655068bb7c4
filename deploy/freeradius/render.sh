#!/bin/sh
# Renders Kabinet's FreeRADIUS configuration into a directory ready for
# `freeradius -f -d DIR -l stdout`.
#
#   deploy/freeradius/render.sh DIR KABINET_INTERNAL_URL TOKEN [LISTEN_ADDR] [AUTH_PORT] [ACCT_PORT] [LISTEN_ADDR6]
#
# LISTEN_ADDR6 is the IPv6 address to listen on as well (default `::`, every one); `none`
# listens on IPv4 only (a host without IPv6).
#
# e.g. deploy/freeradius/render.sh /tmp/radius http://127.0.0.1:8081 "$KABINET_RADIUS_TOKEN"
set -eu
[ $# -ge 3 ] || { sed -n '2,10p' "$0"; exit 2; }
dir=$1 url=$2 token=$3 addr=${4:-*} auth=${5:-1812} acct=${6:-1813} addr6=${7:-::}
lifetime=${KABINET_RADIUS_CLIENT_LIFETIME:-60}
here=$(cd "$(dirname "$0")" && pwd)
case $token in *[!A-Za-z0-9._~+/=-]*) echo "render.sh: the token has characters a config file cannot hold" >&2; exit 2;; esac
mkdir -p "$dir/log" "$dir/run" "$dir/mods-config"
: > "$dir/dictionary"
umask 077
sed -e "s|@CONFDIR@|$dir|g" -e "s|@KABINET_URL@|$url|g" -e "s|@KABINET_TOKEN@|$token|g" \
    -e "s|@LISTEN_ADDR@|$addr|g" -e "s|@AUTH_PORT@|$auth|g" -e "s|@ACCT_PORT@|$acct|g" \
    -e "s|@CLIENT_LIFETIME@|$lifetime|g" -e "s|@LISTEN_ADDR6@|$addr6|g" \
    "$here/radiusd.conf.in" > "$dir/radiusd.conf.tmp"
if [ "$addr6" = none ]; then
  sed -e '/^#ipv6{$/,/^#ipv6}$/d' "$dir/radiusd.conf.tmp" > "$dir/radiusd.conf"
else
  grep -v '^#ipv6[{}]$' "$dir/radiusd.conf.tmp" > "$dir/radiusd.conf"
fi
rm -f "$dir/radiusd.conf.tmp"
echo "$dir/radiusd.conf"
