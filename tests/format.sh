#!/usr/bin/env bash
# Checks that the C sources are formatted as .clang-format says.
#
#   tests/format.sh          the files changed since the upstream branch
#                            (or since FORMAT_BASE), else every tracked file
#   tests/format.sh --all    every tracked C file
#
# The tree was formatted once as a whole (its own commit), so checking the
# changed files keeps it so; --all is what CI falls back to when it has no
# base to compare with. Fix with: clang-format -i FILE...
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || {
  echo "format: clang-format not installed (apt-get install clang-format)"
  exit 1
}
files=()
if [ "${1:-}" != "--all" ]; then
  base=${FORMAT_BASE:-}
  if [ -z "$base" ]; then
    base=$(git rev-parse -q --verify '@{upstream}' 2>/dev/null || true)
  fi
  if [ -n "$base" ] && git rev-parse -q --verify "$base" >/dev/null; then
    while IFS= read -r f; do
      [ -f "$f" ] && files+=("$f")
    done < <(git diff --name-only --diff-filter=d "$base" -- '*.c' '*.h' '*.cc')
    echo "format: ${#files[@]} C file(s) changed since $base"
  fi
fi
if [ "${1:-}" = "--all" ] || [ -z "${base:-}" ]; then
  while IFS= read -r f; do files+=("$f"); done < <(git ls-files '*.c' '*.h' '*.cc')
  echo "format: every tracked C file (${#files[@]})"
fi
[ ${#files[@]} -gt 0 ] || exit 0
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf 'format: not formatted: %s\n' "${bad[@]}"
  echo "format: fix with: clang-format -i ${bad[*]}"
  exit 1
fi
echo "format: ok"
