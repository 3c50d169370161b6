# Build settings shared by every target, and the helpers that register libraries and tests.

# Warnings as errors and Qt's strictness defines (style.md "Code").
function(mcpauth_strict target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror -Wno-error=deprecated-declarations)
  target_compile_definitions(${target} PRIVATE
    QT_NO_CAST_FROM_ASCII QT_NO_CAST_TO_ASCII QT_NO_CAST_FROM_BYTEARRAY
    QT_NO_URL_CAST_FROM_STRING QT_NO_FOREACH QT_NO_KEYWORDS QT_USE_QSTRINGBUILDER
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
    MCPAUTH_VERSION="${PROJECT_VERSION}")
endfunction()

# mcpauth_add_test(NAME SOURCES ... LIBS ... [WRAPPER cmd args...]): one Qt Test binary per class,
# registered with ctest. WRAPPER runs the binary through a command (e.g. with-keyring.sh for a private
# D-Bus session). Tests run with a private HOME and XDG dirs so they never touch the user's files.
function(mcpauth_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;WRAPPER" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE Qt6::Test mcpauth_testsupport ${T_LIBS})
  mcpauth_strict(${name})
  add_test(NAME ${name} COMMAND ${T_WRAPPER} $<TARGET_FILE:${name}>)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "unit;${T_LABELS}"
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;HOME=${CMAKE_BINARY_DIR}/test-home/${name};XDG_RUNTIME_DIR=${CMAKE_BINARY_DIR}/test-home/${name}/run;XDG_DATA_HOME=${CMAKE_BINARY_DIR}/test-home/${name}/data;XDG_CONFIG_HOME=${CMAKE_BINARY_DIR}/test-home/${name}/config")
endfunction()
