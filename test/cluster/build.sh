#!/usr/bin/env bash
# Builds the upstream binaries of a small real Kubernetes control plane for Ballast's e2e tests:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok,
# at pinned versions, from Go modules only (no Docker, no GitHub), into a cache dir keyed by the versions:
#   ${BALLAST_CACHE:-$HOME/.cache/ballast}/k8s/<key>/bin/
# Progress goes to stderr; the last line of stdout is the bin dir:  BIN=$(test/cluster/build.sh | tail -1)
#
# Reuse: if $BALLAST_K8S_BIN or $KUBEBUILDER_ASSETS holds etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler, nothing of Kubernetes is built; if that dir lacks kwok, kwok is built into a cache dir that
# symlinks the reused binaries, and that dir is printed instead.
#
# Env: BALLAST_CACHE (cache root), BALLAST_BUILD_JOBS (go build -p, default 2), BALLAST_K8S_BIN, KUBEBUILDER_ASSETS.
# See README.md beside this file for versions, timings and pitfalls.
set -euo pipefail

# ---- pinned versions (change them together; the cache key follows) ----
KUBE_VERSION="v1.34.4"   # k8s.io/kubernetes; staging modules are published as v0.34.4
ETCD_VERSION="v3.6.16"   # go.etcd.io/etcd/server/v3 (k8s 1.34 pins v3.6.4 as client; any 3.6 patch serves it)
KWOK_VERSION="v0.8.0"    # sigs.k8s.io/kwok
RECIPE=2                 # bump when the build flags below change, to invalidate old caches

JOBS="${BALLAST_BUILD_JOBS:-2}"
REQUIRED=(etcd kube-apiserver kube-controller-manager kube-scheduler)

exec 3>&1 1>&2   # everything goes to stderr except the final path (fd 3)
log() { printf '[k8s-build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
command -v go >/dev/null || die "go is not installed"

CACHE_ROOT="${BALLAST_CACHE:-$HOME/.cache/ballast}/k8s"
GOOS_ARCH="$(go env GOOS)-$(go env GOARCH)"

has_all() { # dir name... -> 0 if every named file is an executable in dir
  local d=$1; shift
  for b in "$@"; do [ -x "$d/$b" ] || return 1; done
}

# Builds/uses are serialized per output dir, so parallel callers wait for one build.
lock_out() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  if ! flock -n 9; then log "another build holds $1/.lock; waiting"; flock 9; fi
}

# Go environment for every build. GOFLAGS is set, not appended to: a user -mod=readonly would break wrappers.
export CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

# mkwrapper DIR MODULE@VERSION: a throwaway main module in DIR requiring MODULE@VERSION, with upstream's
# go/godebug lines copied so the binaries keep upstream's GODEBUG defaults.
mkwrapper() {
  local dir=$1 modver=$2 upmod goline godebug
  rm -rf "$dir"; mkdir -p "$dir"
  upmod="$(go mod download -json "$modver" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$upmod" ] || die "could not download $modver"
  goline="$(sed -n 's/^go \([0-9.]*\)[[:space:]]*$/\1/p' "$upmod")"
  godebug="$(sed -n 's/^godebug \([^ (]*\)[[:space:]]*$/\1/p' "$upmod")"
  (
    cd "$dir"
    go mod init ballast-testbed.invalid/wrapper >/dev/null 2>&1
    [ -n "$goline" ] && go mod edit -go="$goline"
    [ -n "$godebug" ] && go mod edit -godebug="$godebug"
    true
  )
  printf '%s' "$upmod"
}

build_kwok() { # OUTBIN
  local out=$1 src=$2 t0=$SECONDS
  log "kwok $KWOK_VERSION: wrapper module in $src"
  mkwrapper "$src" "sigs.k8s.io/kwok@$KWOK_VERSION" >/dev/null
  (cd "$src" && go get "sigs.k8s.io/kwok@$KWOK_VERSION" \
    && go build -p "$JOBS" -trimpath -ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
      -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok)
  # kwok v0.8.0 has no built-in stages ("no stages found" and exit 1 without a config); kwokctl writes these
  # same upstream Stage files into its config. Ship them next to the binary as one multi-document file.
  local kdir stage
  kdir="$(cd "$src" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  {
    echo "# kwok $KWOK_VERSION default stages (kustomize/stage/{node/fast,node/heartbeat-with-lease,pod/fast}), for kwok -c"
    for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
      pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
      echo "---"
      cat "$kdir/kustomize/stage/$stage.yaml"
    done
  } >"$out/kwok-stages.yaml.tmp"
  mv "$out/kwok-stages.yaml.tmp" "$out/kwok-stages.yaml"
  log "kwok built in $((SECONDS - t0))s"
}

finish() { # OUT BIN : record versions, mark complete, print
  local out=$1 bin=$2
  {
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(go env GOVERSION)"
    for b in kube-apiserver kube-controller-manager kube-scheduler; do
      [ -x "$bin/$b" ] && echo "$b: $("$bin/$b" --version 2>&1 | head -1)"
    done
    [ -x "$bin/kubectl" ] && echo "kubectl: $("$bin/kubectl" version --client 2>&1 | head -1)"
    echo "etcd: $("$bin/etcd" --version 2>&1 | head -1)"
    echo "kwok: $("$bin/kwok" --version 2>&1 | head -1)"
  } >"$out/versions.txt"
  cat "$out/versions.txt" >&2
  touch "$out/.complete"
  echo "$bin" >&3
  exit 0
}

# ---- 1) reuse binaries from BALLAST_K8S_BIN / KUBEBUILDER_ASSETS ----
for var in BALLAST_K8S_BIN KUBEBUILDER_ASSETS; do
  dir="${!var:-}"
  [ -n "$dir" ] || continue
  if ! has_all "$dir" "${REQUIRED[@]}"; then
    log "\$$var=$dir lacks some of: ${REQUIRED[*]} (envtest assets have no controller-manager/scheduler); ignoring it"
    continue
  fi
  dir="$(cd "$dir" && pwd -P)"
  if [ -x "$dir/kwok" ] && [ -f "$dir/kwok-stages.yaml" ]; then log "using binaries from \$$var"; echo "$dir" >&3; exit 0; fi
  OUT="$CACHE_ROOT/reuse-$(printf '%s' "$dir" | sha256sum | cut -c1-12)_kwok-${KWOK_VERSION}_r${RECIPE}_${GOOS_ARCH}"
  BIN="$OUT/bin"
  if [ -f "$OUT/.complete" ] && has_all "$BIN" "${REQUIRED[@]}" kwok && [ -f "$BIN/kwok-stages.yaml" ]; then echo "$BIN" >&3; exit 0; fi
  lock_out "$OUT"
  if [ -f "$OUT/.complete" ] && has_all "$BIN" "${REQUIRED[@]}" kwok && [ -f "$BIN/kwok-stages.yaml" ]; then echo "$BIN" >&3; exit 0; fi
  mkdir -p "$BIN"
  for b in "${REQUIRED[@]}" kubectl; do [ -x "$dir/$b" ] && ln -sfn "$dir/$b" "$BIN/$b"; done
  log "reusing Kubernetes binaries from \$$var=$dir; building only kwok"
  build_kwok "$BIN" "$OUT/src/kwok"
  finish "$OUT" "$BIN"
done

# ---- 2) full build into the versioned cache dir ----
KEY="k8s-${KUBE_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_r${RECIPE}_${GOOS_ARCH}"
OUT="$CACHE_ROOT/$KEY"
BIN="$OUT/bin"
ALL=("${REQUIRED[@]}" kubectl kwok)
if [ -f "$OUT/.complete" ] && has_all "$BIN" "${ALL[@]}" && [ -f "$BIN/kwok-stages.yaml" ]; then echo "$BIN" >&3; exit 0; fi
lock_out "$OUT"
if [ -f "$OUT/.complete" ] && has_all "$BIN" "${ALL[@]}" && [ -f "$BIN/kwok-stages.yaml" ]; then echo "$BIN" >&3; exit 0; fi
rm -f "$OUT/.complete"
mkdir -p "$BIN"
START=$SECONDS
log "building into $OUT (go build -p $JOBS; a cold build takes about 7 min on 2 cores)"

# 2a) kube-apiserver, kube-controller-manager, kube-scheduler, kubectl in one `go build` (shared packages).
# k8s.io/kubernetes requires its staging modules at v0.0.0 and maps them to ./staging via replace, which
# a dependent module ignores, so the wrapper replaces each with its published v0.<minor>.<patch>.
SRC="$OUT/src/kube"
t0=$SECONDS
log "kubernetes $KUBE_VERSION: wrapper module in $SRC"
UPMOD="$(mkwrapper "$SRC" "k8s.io/kubernetes@$KUBE_VERSION")"
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"
MINOR="$(cut -d. -f2 <<<"$KUBE_VERSION")"
mapfile -t STAGING < <(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "$UPMOD")
[ "${#STAGING[@]}" -gt 20 ] || die "found only ${#STAGING[@]} staging modules in $UPMOD"
log "replacing ${#STAGING[@]} staging modules with $STAGING_VERSION"
(
  cd "$SRC"
  args=()
  for m in "${STAGING[@]}"; do args+=("-replace=$m=$m@$STAGING_VERSION"); done
  go mod edit "${args[@]}"
  go get "k8s.io/kubernetes@$KUBE_VERSION"
)
log "modules resolved in $((SECONDS - t0))s"
t0=$SECONDS
BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
LDF="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDF+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR"
  LDF+=" -X $p.gitTreeState=clean -X $p.buildDate=$BUILD_DATE"
done
(cd "$SRC" && go build -p "$JOBS" -trimpath -tags=selinux,notest,grpcnotrace -ldflags="$LDF" -o "$BIN/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
log "kube binaries built in $((SECONDS - t0))s"

# 2b) etcd: server/go.mod replaces its sibling modules with ../ paths, so `go install ...@v` refuses it;
# a wrapper module that just requires it needs no replaces (the siblings are pinned to the same version).
t0=$SECONDS
SRC="$OUT/src/etcd"
log "etcd $ETCD_VERSION: wrapper module in $SRC"
mkwrapper "$SRC" "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null
(cd "$SRC" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
  && go build -p "$JOBS" -trimpath -ldflags="-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3)
log "etcd built in $((SECONDS - t0))s"

# 2c) kwok
build_kwok "$BIN" "$OUT/src/kwok"

"$BIN/kube-apiserver" --version | grep -qx "Kubernetes $KUBE_VERSION" \
  || die "kube-apiserver reports '$("$BIN/kube-apiserver" --version)', expected Kubernetes $KUBE_VERSION"
log "build finished in $((SECONDS - START))s"
finish "$OUT" "$BIN"
