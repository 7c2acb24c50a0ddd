# -*- Python -*-
# Runs every GoogleTest binary named *Tests in the unit test build folder;
# lit counts each gtest test as one test.

import lit.formats

config.name = "Tessel-Unit"
config.suffixes = []
config.test_source_root = config.unit_test_dir
config.test_exec_root = config.unit_test_dir
config.test_format = lit.formats.GoogleTest(".", "Tests")
