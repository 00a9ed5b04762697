# Runs one command-line program and checks its exit status and output (stdout and stderr together):
#   cmake -DPROGRAM=<exe> -DARGS=<;-list> -DEXPECT=ok|error [-DMATCH=<regex>] [-DNO_MATCH=<regex>] -P run_cli.cmake
# EXPECT=error: the program must exit non-zero. MATCH must occur in the output, NO_MATCH must not.
execute_process(COMMAND ${PROGRAM} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out
                TIMEOUT 300)
message("${out}")
# A sanitizer build (scripts/run_sanitizers.sh) prints its reports here; an expected error exit must not hide one.
if(out MATCHES "(Address|Leak|UndefinedBehavior|Thread|Memory)Sanitizer|runtime error: ")
  message(FATAL_ERROR "a sanitizer reported an error (exit status ${rc})")
endif()
if(EXPECT STREQUAL "ok" AND NOT rc EQUAL 0)
  message(FATAL_ERROR "expected success, got exit status ${rc}")
elseif(EXPECT STREQUAL "error" AND rc EQUAL 0)
  message(FATAL_ERROR "expected a non-zero exit status, got 0")
endif()
if(DEFINED MATCH AND NOT out MATCHES "${MATCH}")
  message(FATAL_ERROR "output does not match '${MATCH}'")
endif()
if(DEFINED NO_MATCH AND out MATCHES "${NO_MATCH}")
  message(FATAL_ERROR "output matches '${NO_MATCH}', which it must not")
endif()
