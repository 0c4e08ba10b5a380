# Sourced by the scripts: one build directory outside the clone, reused
# across runs and clones (keeps CI and repeated runs fast).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/screenwatch/target}"
mkdir -p "$CARGO_TARGET_DIR"
