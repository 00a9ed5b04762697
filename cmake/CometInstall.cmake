# Installs the libraries as a CMake package: find_package(comet) then link comet::comet.
include(CMakePackageConfigHelpers)
install(TARGETS comet EXPORT comet-targets)
install(EXPORT comet-targets NAMESPACE comet:: DESTINATION lib/cmake/comet)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cometConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cometConfig.cmake INSTALL_DESTINATION lib/cmake/comet)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cometConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cometConfig.cmake ${PROJECT_BINARY_DIR}/cometConfigVersion.cmake
  DESTINATION lib/cmake/comet)
