#!/bin/bash
# Installs the Debian packages mambacl needs to build and test, when any is
# missing (needs root or sudo). Quiet and fast when all are there.
set -euo pipefail
pkgs=(build-essential meson ninja-build pkg-config python3 ocl-icd-opencl-dev opencl-c-headers
      libclblast-dev pocl-opencl-icd libcmocka-dev libcjson-dev libpcre2-dev libmicrohttpd-dev curl clinfo clang
      libclang-rt-dev oclgrind)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "mambacl: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
