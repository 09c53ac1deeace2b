#!/usr/bin/env bash
# bench-cli.sh: whole-process figures of the ckslab binary, as a learner
# feels them: `version`, `list`, `describe psp-01` and `check -o json` of a
# psp-01 lab on the local backend, with the built-in catalog
# and with the built-in catalog plus a generated 200-scenario directory, so
# growth with the catalog's size is visible. Each figure is the median of
# RUNS runs (wall time, and peak RSS from /usr/bin/time -v). The same psp-01
# checks as a bash script of kubectl calls (hack/bench-checks.sh) run in the
# same session for the ratio. Where perf may count, a second table gives
# each figure's CPU time as perf's task-clock (finer than GNU time's 10 ms).
#
# usage: hack/bench-cli.sh            (builds ./cmd/ckslab)
#   RUNS=7                 runs per figure
#   CKSLAB=path            measure this binary instead of building one
#   CKSLAB_BASE=path       also measure this binary (e.g. an older build),
#                          interleaved run by run, for a before/after ratio
#   LARGE=200              scenarios in the generated directory
#   BENCH_CLUSTER=name     the lab cluster's name (default bench-cli-PID)
# The machine is shared: compare ratios within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
RUNS="${RUNS:-7}"
LARGE="${LARGE:-200}"
[[ -x /usr/bin/time ]] || { echo "bench-cli needs GNU time: apt-get install time" >&2; exit 2; }
command -v kubectl >/dev/null || { echo "bench-cli needs kubectl for the comparison script" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench-cli needs jq (apt-get install jq)" >&2; exit 2; }
export CKSLAB_BIN_DIR="${CKSLAB_BIN_DIR:-$(hack/build-k8s-binaries.sh | tail -n1)}"

work=$(mktemp -d "${TMPDIR:-/tmp}/ckslab-bench-cli.XXXXXX")
export CKSLAB_STATE_DIR="$work/state" CKSLAB_CLUSTER="${BENCH_CLUSTER:-bench-cli-$$}" CKSLAB_BACKEND=local NO_COLOR=1
unset CKSLAB_SCENARIOS
# Peak RSS is mostly the binary's own pages, mapped from the page cache: a
# file the Go linker wrote sits there in 2 MiB folios (mapped whole, ~35 MiB
# more RSS) where a copied one does not, so every measured binary is a
# fresh cp, cached alike.
if [[ -n "${CKSLAB:-}" ]]; then
  cp "$CKSLAB" "$work/ckslab"
else
  go build -o "$work/ckslab.built" ./cmd/ckslab
  cp "$work/ckslab.built" "$work/ckslab"
  rm "$work/ckslab.built"
fi
bin="$work/ckslab"
bins=("$bin")
names=(ckslab)
if [[ -n "${CKSLAB_BASE:-}" ]]; then
  cp "$CKSLAB_BASE" "$work/ckslab-base"
  bins+=("$work/ckslab-base")
  names+=(base)
fi
cleanup() {
  "$bin" cluster down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The generated catalog: copies of the built-in scenarios (files and all)
# under new ids, so every one is a valid scenario the loader must parse.
large="$work/large"
mapfile -t builtin < <(cd scenarios && find . -name scenario.yaml | sort)
for ((i = 0; i < LARGE; i++)); do
  src=${builtin[$((i % ${#builtin[@]}))]}
  dir=$(dirname "$src")
  old=$(basename "$dir")
  new="$old-gen$i"
  mkdir -p "$large/$(dirname "$dir")/$new"
  cp -r "scenarios/$dir/." "$large/$(dirname "$dir")/$new/"
  sed -i "0,/^  name: $old\$/s//  name: $new/" "$large/$(dirname "$dir")/$new/scenario.yaml"
done
n=$("$bin" --scenarios "$large" list -o name | wc -l)
nb=$("$bin" list -o name | wc -l)
echo "catalogs: builtin $nb scenarios; with the generated directory $n"

"$bin" start psp-01 --no-tui >"$work/start.log" 2>&1 || { cat "$work/start.log" >&2; exit 1; }
kubeconfig=$(sed -n 's/^ *export KUBECONFIG=//p' "$work/start.log" | tail -n1)

# measure LABEL BIN ARGS...: appends "ms kb" to $work/<label>.
measure() {
  local label=$1 b=$2
  shift 2
  local t0 t1 rc=0
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$work/time.out" "$b" "$@" >/dev/null 2>"$work/err.out" || rc=$?
  t1=$(date +%s%N)
  if ((rc > 1)); then
    echo "$label: exit $rc" >&2
    cat "$work/err.out" >&2
    exit 1
  fi
  # wall ms, peak RSS KiB, CPU ms (user+sys: less sensitive than wall time
  # to the run queue of a shared machine; 10 ms resolution)
  echo "$(((t1 - t0) / 1000000)) $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.out")" \
    "$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%d", s * 1000}' "$work/time.out")" >>"$work/$label"
}

median() { # median of column $2 of file $1
  sort -n -k"$2" "$1" | awk -v c="$2" '{v[NR]=$c} END {print v[int((NR+1)/2)]}'
}

cmds=("version" "list" "describe psp-01" "check -o json")
for ((r = 0; r <= RUNS; r++)); do # run 0 warms caches (page cache, index)
  for bi in "${!bins[@]}"; do
    for c in "${cmds[@]}"; do
      for cat in 30 all; do
        [[ $c == version && $cat == all ]] && continue
        extra=()
        [[ $cat == all ]] && extra=(--scenarios "$large")
        label="${names[$bi]}.${c// /_}.$cat"
        # shellcheck disable=SC2086
        measure "$label" "${bins[$bi]}" "${extra[@]}" $c
        ((r == 0)) && rm -f "$work/$label"
      done
    done
  done
done

echo
echo "== whole-process figures, median of $RUNS (wall ms, CPU ms, peak RSS MiB)"
printf '%-6s %-18s %24s %24s %s\n' binary command "$nb scenarios" "$n scenarios" "$n/$nb wall/cpu"
for bi in "${!names[@]}"; do
  for c in "${cmds[@]}"; do
    row=()
    for cat in 30 all; do
      f="$work/${names[$bi]}.${c// /_}.$cat"
      if [[ -f $f ]]; then
        row+=("$(median "$f" 1) ms $(median "$f" 3) cpu $(($(median "$f" 2) / 1024)) MiB")
      else
        row+=("-")
      fi
    done
    ratio=-
    if [[ -f "$work/${names[$bi]}.${c// /_}.all" ]]; then
      f30="$work/${names[$bi]}.${c// /_}.30" fall="$work/${names[$bi]}.${c// /_}.all"
      ratio=$(awk -v a="$(median "$fall" 1)" -v b="$(median "$f30" 1)" -v ca="$(median "$fall" 3)" -v cb="$(median "$f30" 3)" \
        'BEGIN {printf "%.2f/%.2f", a/b, (cb > 0 ? ca/cb : 0)}')
    fi
    printf '%-6s %-18s %24s %24s %s\n' "${names[$bi]}" "$c" "${row[0]}" "${row[1]}" "$ratio"
  done
done

# CPU time at a finer grain than GNU time's 10 ms: perf's task-clock (all
# threads of the process), mean of RUNS runs, where perf may count.
if perf stat -x, -e task-clock -o /dev/null true 2>/dev/null; then
  echo
  echo "== task-clock (perf stat), mean of $RUNS runs, ms (±% of the mean)"
  printf '%-6s %-18s %14s %14s %s\n' binary command "$nb scenarios" "$n scenarios" "$n/$nb"
  for bi in "${!names[@]}"; do
    for c in "${cmds[@]}"; do
      row=() vals=()
      for cat in 30 all; do
        if [[ $c == version && $cat == all ]]; then
          row+=("-")
          continue
        fi
        extra=()
        [[ $cat == all ]] && extra=(--scenarios "$large")
        # shellcheck disable=SC2086
        perf stat -x, -e task-clock -r "$RUNS" -o "$work/perf.out" "${bins[$bi]}" "${extra[@]}" $c >/dev/null 2>&1 || true
        v=$(awk -F, '$3 == "task-clock" {print $1; exit}' "$work/perf.out")
        pct=$(awk -F, '$3 == "task-clock" {print $4; exit}' "$work/perf.out")
        vals+=("$v")
        row+=("$(printf '%.1f (%s)' "$v" "${pct:-?}")")
      done
      ratio=-
      ((${#vals[@]} == 2)) && ratio=$(awk -v a="${vals[1]}" -v b="${vals[0]}" 'BEGIN {printf "%.2f", a/b}')
      printf '%-6s %-18s %14s %14s %s\n' "${names[$bi]}" "$c" "${row[0]}" "${row[1]}" "$ratio"
    done
  done
fi

echo
echo "== the same psp-01 checks as a bash script of kubectl calls ($RUNS runs)"
out=$(KUBECONFIG="$kubeconfig" bash hack/bench-checks.sh "$RUNS")
echo "$out" | tail -n1
k50=$(echo "$out" | sed -n 's/.*p50_ms=\([0-9]*\).*/\1/p')
for bi in "${!names[@]}"; do
  c50=$(median "$work/${names[$bi]}.check_-o_json.30" 1)
  awk -v k="$k50" -v c="$c50" -v n="${names[$bi]}" 'BEGIN {printf "%s check (whole process) %d ms vs kubectl script %d ms: %.1fx faster\n", n, c, k, k/c}'
done
