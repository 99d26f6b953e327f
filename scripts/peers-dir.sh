# Sourced by scripts/test.sh and bench/run.sh: where the Django peers are ($here is the checkout).
# POSTERN_PEERS_DIR if set; else ../shared beside the checkout; else, for a clone of a checkout on this
# machine (git clone . /tmp/ci-check), ../shared beside the checkout it was cloned from.
peers_dir() {
  if [ -n "${POSTERN_PEERS_DIR:-}" ]; then
    echo "$POSTERN_PEERS_DIR"
    return
  fi
  local beside="$here/../shared/peers/django" origin
  if [ ! -f "$beside/install.sh" ]; then
    origin="$(git -C "$here" config --get remote.origin.url 2>/dev/null || true)"
    origin="${origin#file://}"
    if [ -n "$origin" ] && [ -d "$origin" ] && [ -f "$origin/../shared/peers/django/install.sh" ]; then
      beside="$origin/../shared/peers/django"
    fi
  fi
  echo "$beside"
}
