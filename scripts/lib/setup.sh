# Shared by scripts/test, scripts/demo and scripts/bench: install what the project needs, idempotently.
# Sourced, not run. Nothing here is on the launcher's path: it only prepares a developer or CI machine.

MUSL_TARGET=x86_64-unknown-linux-musl
RELEASE_DIR=target/$MUSL_TARGET/release

step() { printf '\n==> %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ensure_apt_packages PKG...: installs the Debian packages that are missing.
ensure_apt_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_rust_tools() {
  rustup target list --installed | grep -qx "$MUSL_TARGET" || rustup target add "$MUSL_TARGET"
  command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
}

# build_release_launcher: the static release binaries, exactly as scripts/release ships them. The build is
# reproducible and carries no build-machine path: rustc maps the checkout, $CARGO_HOME (the registry sources)
# and $RUSTUP_HOME to fixed names. The mapping is passed with --config, which cargo appends to the target
# rustflags of .cargo/config.toml; RUSTFLAGS and its variants would replace those, so they are cleared.
build_release_launcher() {
  rustup target list --installed | grep -qx "$MUSL_TARGET" || rustup target add "$MUSL_TARGET"
  local src cargo_home rustup_home flags="" dir
  src=$(pwd -P)
  cargo_home=${CARGO_HOME:-$HOME/.cargo}
  rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
  # Most specific last: rustc applies the last matching prefix.
  for dir in "$rustup_home=/rustup" "$(realpath -m "$rustup_home")=/rustup" \
             "$cargo_home=/cargo" "$(realpath -m "$cargo_home")=/cargo" "$src=/py_launcher"; do
    case $dir in *'"'*|*'\'*) echo "error: cannot map a path holding a quote or backslash: $dir" >&2; return 1;; esac
    flags+="${flags:+,}\"--remap-path-prefix=$dir\""
  done
  # The commit build.rs would find, given explicitly so that every caller builds the same binary.
  local commit
  commit=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
  env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET_DIR \
    PY_LAUNCHER_GIT_COMMIT="$commit" \
    cargo build --release --locked --target "$MUSL_TARGET" --bins \
    --config "target.$MUSL_TARGET.rustflags=[$flags]"
}

# check_static FILE: fails unless FILE is a statically linked ELF (no interpreter, no NEEDED libraries).
check_static() {
  if readelf -l "$1" | grep -q 'Requesting program interpreter' || readelf -d "$1" | grep -q NEEDED; then
    echo "error: $1 is dynamically linked" >&2
    return 1
  fi
}

TEST_DEPS_DIR=target/test-deps/wheels

# ensure_test_deps: downloads the pinned wheels of tests/deps.txt (no dependencies, binary only) into
# $TEST_DEPS_DIR; a re-run with an unchanged list downloads nothing.
ensure_test_deps() {
  local stamp="$TEST_DEPS_DIR/.deps.txt"
  if [ -f "$stamp" ] && cmp -s tests/deps.txt "$stamp"; then return 0; fi
  step "downloading the test dependencies (tests/deps.txt)"
  mkdir -p "$TEST_DEPS_DIR"
  /usr/bin/python3.11 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -q \
    -d "$TEST_DEPS_DIR" -r tests/deps.txt
  cp tests/deps.txt "$stamp"
}

BUILDGRID_DIR=target/test-deps/buildgrid

# ensure_buildgrid: installs BuildGrid, pinned in tests/deps-tools.txt (the remote cache of
# tests/bazel_cache.rs), into its own venv under target/test-deps (again only when the pin changes).
ensure_buildgrid() {
  local stamp="$BUILDGRID_DIR/.version" want have
  want=$(grep -i '^buildgrid==' tests/deps-tools.txt)
  have=$(cat "$stamp" 2>/dev/null || true)
  # (A stamp holding only the version is an install from before the pin moved to tests/deps-tools.txt.)
  if [ -x "$BUILDGRID_DIR/bin/bgd" ] && { [ "$have" = "$want" ] || [ "buildgrid==$have" = "$want" ]; }; then
    return 0
  fi
  step "installing $want (the remote cache of tests/bazel_cache.rs)"
  rm -rf "$BUILDGRID_DIR"
  /usr/bin/python3.11 -m venv "$BUILDGRID_DIR"
  "$BUILDGRID_DIR/bin/pip" install -q --disable-pip-version-check "$want"
  echo "$want" > "$stamp"
}
