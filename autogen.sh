#!/bin/sh
# Generates ./configure and the Makefile templates from configure.ac and
# Makefile.am. Run once after a fresh clone (./quickstart does it for you).
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf --install --force --warnings=all
