# Tessel: the two commands a user needs.
#   make demo   install what is missing, build, run the main job
#   make check  install what is missing, build, run every lit and GoogleTest test
#   make bench  also install oneDNN and run tessel-bench
BUILD ?= build
BUILD_TYPE ?= Release
LLVM_DIR ?= /usr/lib/llvm-22
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo check bench docs clean

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
# LeNet-style CNN trained with one compiled step per batch.
demo: build
	$(BUILD)/bin/tessel-opt examples/resnet_block.mlir
	mkdir -p $(BUILD)/demo
	$(BUILD)/bin/tessel-demo --aot $(BUILD)/demo
	$(LLVM_DIR)/bin/clang -O2 -Iinclude -I$(BUILD)/demo examples/aot_demo.c \
	  $(BUILD)/demo/resnet.o -L$(BUILD)/lib -ltessel_runtime -lpthread -lm \
	  -o $(BUILD)/demo/aot-demo
	$(BUILD)/demo/aot-demo $(BUILD)/demo
	$(BUILD)/bin/tessel-train-demo --require-accuracy 0.9

check: build
	bash test/run-tests.sh $(BUILD)

# Tessel against oneDNN, layer by layer (installs oneDNN first).
bench: deps
	@bash tools/install-deps.sh --bench
	cmake -S . -B $(BUILD) > /dev/null
	cmake --build $(BUILD) --target tessel-bench
	$(BUILD)/bin/tessel-bench

# Regenerates docs/dialect.md and docs/passes.md from the ODS definitions.
docs: build
	cp $(BUILD)/docs/TesselDialect.md docs/dialect.md
	cp $(BUILD)/docs/TesselPasses.md docs/passes.md

clean:
	rm -rf $(BUILD)
