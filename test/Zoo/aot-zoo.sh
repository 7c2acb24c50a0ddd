#!/usr/bin/env bash
# aot-zoo.sh BIN CC INCLUDE LIB ZOO WORK MODEL...
# Compiles each zoo MODEL ahead of time with tessel-compile, links it into
# test/AOT/Inputs/harness.c (a C program that knows the model from its
# header alone), runs it on the zoo's input and compares with PyTorch's
# output within 1e-4 of the output's scale.
set -euo pipefail
bin=$1 cc=$2 include=$3 lib=$4 zoo=$5 work=$6
shift 6
harness=$(dirname "$0")/../AOT/Inputs/harness.c
for name in "$@"; do
  dir=$work/$name
  rm -rf "$dir" && mkdir -p "$dir/inputs" "$dir/torch"
  "$bin/tessel-compile" "$zoo/$name.onnx" --prefix model -o "$dir/model.o"
  "$cc" -O1 -include "$dir/model.h" -I"$include" "$harness" "$dir/model.o" \
    -L"$lib" -ltessel_runtime -lpthread -lm -o "$dir/harness"
  cp "$zoo/$name.in.npy" "$dir/inputs/x.npy"
  cp "$zoo/$name.out.npy" "$dir/torch/y.npy"
  echo "model $name"
  "$dir/harness" check "$dir/inputs" "$dir/torch" --of-scale
done
