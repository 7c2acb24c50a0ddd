#!/usr/bin/env bash
# aot-vs-jit.sh BIN CC INCLUDE LIB WORK MODEL [--threads N] FUNCTION...
# Compiles each FUNCTION of MODEL with tessel-compile, links it into
# harness.c, runs it and the JIT (tessel-run) on the same random inputs and
# prints the harness's comparison.
set -euo pipefail
bin=$1 cc=$2 include=$3 lib=$4 work=$5 model=$6
shift 6
threads=(--threads 1) omp=()
if [ "$1" = --threads ]; then
  threads=(--threads "$2")
  [ "$2" -gt 1 ] && omp=(-L"$(dirname "$cc")/../lib" -lomp -Wl,-rpath,"$(dirname "$cc")/../lib")
  shift 2
fi
here=$(dirname "$0")
for fn in "$@"; do
  dir=$work/$fn
  rm -rf "$dir" && mkdir -p "$dir/inputs" "$dir/jit"
  "$bin/tessel-compile" "$model" --function "$fn" --prefix model "${threads[@]}" -o "$dir/model.o"
  "$cc" -O1 -include "$dir/model.h" -I"$include" "$here/harness.c" "$dir/model.o" \
    -L"$lib" -ltessel_runtime -lpthread -lm "${omp[@]}" -o "$dir/harness"
  "$dir/harness" gen "$dir/inputs"
  "$bin/tessel-run" "$model" --function "$fn" --input-dir "$dir/inputs" \
    --output-dir "$dir/jit" > /dev/null
  echo "function $fn"
  "$dir/harness" check "$dir/inputs" "$dir/jit"
done
