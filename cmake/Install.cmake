# `cmake --install BUILD --prefix P` installs Tessel for other projects:
#   bin/      tessel-run, tessel-compile, tessel-opt
#   include/  the public headers (tessel/*.h, tessel/Version.h)
#   lib/      libtessel.so (the C++ API: graph builder, JIT, AOT, ONNX
#             import), libtessel_runtime.a (the C runtime AOT objects call),
#             cmake/Tessel/ (find_package(Tessel CONFIG)) and
#             pkgconfig/tessel-runtime.pc
# docs/user-guide.md shows both ways to use it from another project.

include(CMakePackageConfigHelpers)

# libtessel.so: the static API library linked whole (its compiler and
# dialect code comes along as needed), against the shared libMLIR/libLLVM,
# libonnx, libprotobuf and LLVM's OpenMP runtime, which it records as its
# own dependencies (with a run path to LLVM's library folder): a program
# links this one library. In-tree tools and tests keep linking the static
# `tessel`, which also exposes the internal headers' symbols to the tests.
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/tessel_shared.cpp
     "// libtessel.so: its code is the static tessel library, linked whole.\n")
add_library(tessel_shared SHARED ${CMAKE_CURRENT_BINARY_DIR}/tessel_shared.cpp)
target_link_libraries(tessel_shared PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,tessel>")
target_include_directories(tessel_shared INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
  $<INSTALL_INTERFACE:include>)
target_compile_features(tessel_shared INTERFACE cxx_std_17)
set_target_properties(tessel_shared PROPERTIES
  OUTPUT_NAME tessel
  EXPORT_NAME tessel
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib
  INSTALL_RPATH "${LLVM_LIBRARY_DIR}")
# The JIT resolves OpenMP's and MLIR's runner symbols in the process: keep
# those libraries as dependencies even where the linker drops unused ones.
target_link_options(tessel_shared PRIVATE LINKER:--no-as-needed)
set_target_properties(tessel_runtime PROPERTIES EXPORT_NAME runtime)
# The installed tools find libMLIR/libLLVM/libomp in LLVM's library folder.
set_target_properties(tessel-run tessel-compile tessel-opt PROPERTIES
  INSTALL_RPATH "\$ORIGIN/../lib;${LLVM_LIBRARY_DIR}")

install(TARGETS tessel_shared tessel_runtime tessel-run tessel-compile tessel-opt
  EXPORT TesselTargets
  RUNTIME DESTINATION bin
  LIBRARY DESTINATION lib
  ARCHIVE DESTINATION lib
  INCLUDES DESTINATION include)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tessel DESTINATION include
  FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/tessel/Version.h DESTINATION include/tessel)

set(TESSEL_CMAKE_DIR lib/cmake/Tessel)
install(EXPORT TesselTargets NAMESPACE tessel:: DESTINATION ${TESSEL_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/TesselConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/TesselConfig.cmake
  INSTALL_DESTINATION ${TESSEL_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/TesselConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/TesselConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/TesselConfigVersion.cmake
  DESTINATION ${TESSEL_CMAKE_DIR})

configure_file(${CMAKE_CURRENT_LIST_DIR}/tessel-runtime.pc.in
  ${CMAKE_CURRENT_BINARY_DIR}/tessel-runtime.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tessel-runtime.pc DESTINATION lib/pkgconfig)
