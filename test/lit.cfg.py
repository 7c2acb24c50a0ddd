# -*- Python -*-
# lit configuration for Tessel's FileCheck tests. The GoogleTest binaries are
# run by the suite in Unit/.

import os
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "Tessel"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "Unit", "zoo.py", "conformance.cpp", "fuzz-importer.cpp", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tessel_obj_root, "test")

config.substitutions.append(("%tessel_src", config.tessel_src_root))
config.substitutions.append(("%tessel_obj", config.tessel_obj_root))
# Compiling and linking C/C++ programs against AOT objects and the runtime.
config.substitutions.append(("%cc", os.path.join(config.llvm_tools_dir, "clang")))
config.substitutions.append(("%cxx", os.path.join(config.llvm_tools_dir, "clang++")))
config.substitutions.append(("%tessel_include", os.path.join(config.tessel_src_root, "include")))
config.substitutions.append(("%tessel_lib", os.path.join(config.tessel_obj_root, "lib")))
config.substitutions.append(("%llvm_lib", config.llvm_lib_dir))
# ONNX's backend tests, from Debian's libonnx-testdata.
config.substitutions.append(("%onnx_data", "/usr/share/libonnx-testdata/data"))
config.substitutions.append(("%python", sys.executable))
# PyTorch, the zoo's oracle (test/Zoo/): Debian's python3-torch and
# python3-torchvision, which tools/install-deps.sh installs, for Debian's
# Python. The exported models are kept between runs (zoo.py regenerates them
# when it changes) in TESSEL_ZOO_DIR, by default under the build folder.
config.substitutions.append(("%torch_python", "/usr/bin/python3"))
config.substitutions.append(("%zoo_dir", os.environ.get(
    "TESSEL_ZOO_DIR", os.path.join(config.tessel_obj_root, "test", "Zoo", "models"))))

# The importer's fuzz target exists when clang's libFuzzer was installed.
if os.path.exists(os.path.join(config.tessel_tools_dir, "tessel-onnx-fuzz")):
    config.available_features.add("libfuzzer")

# The tools' disk cache stays off unless a test asks for it (--cache-dir):
# each test compiles what it tests.
config.environment["TESSEL_NO_CACHE"] = "1"

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    [ToolSubst("tessel-compile", unresolved="fatal"),
     ToolSubst("tessel-onnx-fuzz", unresolved="ignore"),
     ToolSubst("tessel-onnx-conformance", unresolved="fatal"),
     ToolSubst("tessel-opt", unresolved="fatal"),
     ToolSubst("tessel-run", unresolved="fatal")],
    [config.tessel_tools_dir]
)
