# Tessel: the two commands a user needs.
#   make demo   install what is missing, build, run the main job
#   make check  install what is missing, build, run every lit and GoogleTest test
#   make check-sanitize  the same tests built with ASan+UBSan (build-sanitize/)
#   make bench  also install oneDNN and run tessel-bench
BUILD ?= build
BUILD_TYPE ?= Release
LLVM_DIR ?= /usr/lib/llvm-22
CMAKE_FLAGS ?=

SANITIZE_BUILD ?= build-sanitize

.PHONY: all deps configure build demo check check-sanitize bench-tool bench bench-models docs clean

all: build

deps:
	@bash tools/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -G Ninja -S . -B $(BUILD) \
	  -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_C_COMPILER=$(LLVM_DIR)/bin/clang \
	  -DCMAKE_CXX_COMPILER=$(LLVM_DIR)/bin/clang++ \
	  -DMLIR_DIR=$(LLVM_DIR)/lib/cmake/mlir \
	  $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD)

# The demo network through the JIT, then compiled ahead of time and linked
# into a plain C program (examples/aot_demo.c) with only the runtime; then a
# LeNet-style CNN trained with one compiled step per batch; then a CNN
# written with tessel::nn trained from a DataLoader with a schedule and
# reloaded from its checkpoint.
demo: build
	$(BUILD)/bin/tessel-opt examples/resnet_block.mlir
	mkdir -p $(BUILD)/demo
	$(BUILD)/bin/tessel-demo --aot $(BUILD)/demo
	$(LLVM_DIR)/bin/clang -O2 -Iinclude -I$(BUILD)/demo examples/aot_demo.c \
	  $(BUILD)/demo/resnet.o -L$(BUILD)/lib -ltessel_runtime -lpthread -lm \
	  -o $(BUILD)/demo/aot-demo
	$(BUILD)/demo/aot-demo $(BUILD)/demo
	$(BUILD)/bin/tessel-train-demo --require-accuracy 0.9
	$(BUILD)/bin/tessel-nn-demo --checkpoint $(BUILD)/demo/cnn.npz --require-accuracy 0.9

check: build
	bash test/run-tests.sh $(BUILD)

# The whole suite again, built with AddressSanitizer and
# UndefinedBehaviorSanitizer (LLVM's LLVM_USE_SANITIZER) in a second build
# folder. A report aborts the program, so a test expecting an error exit
# still fails on it. allocator_may_return_null: the tests allocate beyond
# memory on purpose and expect an error value. allow_user_poisoning=0:
# LLVM's BumpPtrAllocator poisons its slabs in instrumented code (ours,
# through MLIR's inline storage allocator) but not in Debian's uninstrumented
# libMLIR, so libMLIR's own allocations from a slab our code started read as
# poisoned; ASan's own heap checks stay on.
# The PyTorch zoo (test/Zoo/) reuses the models the main build exported.
check-sanitize: deps
	cmake -G Ninja -S . -B $(SANITIZE_BUILD) \
	  -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_C_COMPILER=$(LLVM_DIR)/bin/clang \
	  -DCMAKE_CXX_COMPILER=$(LLVM_DIR)/bin/clang++ \
	  -DMLIR_DIR=$(LLVM_DIR)/lib/cmake/mlir \
	  "-DLLVM_USE_SANITIZER=Address;Undefined" \
	  $(CMAKE_FLAGS)
	cmake --build $(SANITIZE_BUILD)
	ASAN_OPTIONS=abort_on_error=1:allocator_may_return_null=1:detect_leaks=0:allow_user_poisoning=0 \
	UBSAN_OPTIONS=abort_on_error=1:halt_on_error=1:print_stacktrace=1 \
	TESSEL_ZOO_DIR=$(abspath $(BUILD))/test/Zoo/models \
	  bash test/run-tests.sh $(SANITIZE_BUILD)

# tessel-bench, built once oneDNN (its peer, benchmark-only) is installed:
# the configure step finds the library just installed.
bench-tool: deps
	@bash tools/install-deps.sh --bench
	cmake -S . -B $(BUILD) > /dev/null
	cmake --build $(BUILD) --target tessel-bench

# Tessel against oneDNN, layer by layer.
bench: bench-tool
	$(BUILD)/bin/tessel-bench

# Whole models through Tessel, ONNX Runtime and PyTorch in one run
# (tools/bench-models/). Its peers are benchmark-only: PyTorch and
# torchvision from Debian, ONNX Runtime 1.30 from npm into the build folder
# (its CPU binaries ship in the package; the skipped install script only
# fetches GPU parts). BENCH_MODELS_FLAGS passes options, e.g. --runs 10.
# Then the training-step rows (ResNet-18 and MobileNetV2, batch 16, 112x112,
# SGD with momentum, against PyTorch eager): tessel-bench --train, which
# needs oneDNN to build; TRAIN_RUNS steps are timed per row.
ORT_DIR := $(BUILD)/bench-models/ort
TRAIN_RUNS ?= 5
bench-models: build bench-tool
	@bash tools/install-deps.sh --models
	@test -f $(ORT_DIR)/node_modules/onnxruntime-node/package.json || \
	  (mkdir -p $(ORT_DIR) && cd $(ORT_DIR) && \
	   npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0)
	/usr/bin/python3 tools/bench-models/bench_models.py \
	  --tessel-run $(BUILD)/bin/tessel-run --ort-dir $(ORT_DIR) \
	  --work $(BUILD)/bench-models $(BENCH_MODELS_FLAGS)
	$(BUILD)/bin/tessel-bench --train --runs $(TRAIN_RUNS)

# Regenerates docs/dialect.md and docs/passes.md from the ODS definitions.
docs: build
	cp $(BUILD)/docs/TesselDialect.md docs/dialect.md
	cp $(BUILD)/docs/TesselPasses.md docs/passes.md

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD)
