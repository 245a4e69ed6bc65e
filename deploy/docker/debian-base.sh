#!/usr/bin/env bash
# A Python 3.11 base image made from Debian's own packages, for building the ledger's image
# where no registry's base image can be pulled (tests/deploy/test_image.py):
#   deploy/docker/debian-base.sh [TAG]        # default renewal-ledger-base:bookworm
#   docker build --build-arg PYTHON_IMAGE=renewal-ledger-base:bookworm --build-arg SPA=prebuilt .
# debootstrap installs a minimal bookworm with python3 (3.11), venv and CA certificates into a
# folder, which `docker import` turns into an image. Needs root, debootstrap and a Debian
# mirror. CAs added to this machine (/usr/local/share/ca-certificates, e.g. for a TLS-
# inspecting egress proxy) are added to the base so pip can reach PyPI from the build.
set -euo pipefail
tag="${1:-renewal-ledger-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
root="$(mktemp -d /tmp/ledger-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"  # it becomes the image's /: mktemp's 0700 would lock every non-root user out

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$root" "$mirror" >/dev/null
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi
chroot "$root" sh -c 'apt-get clean && rm -rf /var/lib/apt/lists/*'
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' - "$tag" >/dev/null
echo "$tag"
