# Sourced: pinned Python tools in a virtualenv of their own.
#
#   ensure_venv DIR REQUIREMENTS
#
# Makes DIR a virtualenv holding exactly what REQUIREMENTS pins. A copy of
# the requirements file in DIR records what was installed; when the file has
# changed since (or an earlier install did not finish), the virtualenv is
# built again from nothing, so no package of an older pin stays behind.

ensure_venv() {
  local dir=$1 requirements=$2
  if cmp -s "$requirements" "$dir/requirements.txt" 2>/dev/null; then
    return 0
  fi
  printf '%s: installing %s pinned tools from %s into %s\n' \
    "$(basename "$0")" "$(grep -cv '^#' "$requirements")" "$requirements" "$dir" >&2
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$dir/requirements.txt"
}
