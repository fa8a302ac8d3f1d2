#!/bin/sh
# systemd does not pass the container environment to its units: keep the MAAS_* variables in a
# root-only file that maas-region-db.service reads, then become systemd.
set -eu
umask 077
env | grep '^MAAS_' > /etc/maas-region.env || true
exec /sbin/init
