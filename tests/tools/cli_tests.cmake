# Command-line tests of tools/comet_train (included by tests/CMakeLists.txt when the tools are built): bad options
# fail before any training with a message naming the option, and a small run saves a checkpoint that loads back
# (and is refused by a model of another shape). Each runs tests/tools/run_cli.cmake.
set(cli_small --experts 4 --samples 2048 --threads 1)
set(cli_checkpoint ${CMAKE_CURRENT_BINARY_DIR}/cli_checkpoint.safetensors)
function(comet_cli_test name expect match)
  cmake_parse_arguments(T "" "NO_MATCH" "ARGS" ${ARGN})
  set(extra "")
  if(T_NO_MATCH)
    set(extra -DNO_MATCH=${T_NO_MATCH})
  endif()
  string(REPLACE ";" "\\;" args "${T_ARGS}")
  add_test(NAME tools/${name}
           COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:comet_train> -DARGS=${args} -DEXPECT=${expect}
                   -DMATCH=${match} ${extra} -P ${CMAKE_CURRENT_LIST_DIR}/run_cli.cmake)
endfunction()

comet_cli_test(rejects_nan_learning_rate error "--lr: nan is not a finite number" NO_MATCH "epoch" ARGS --lr nan)
comet_cli_test(rejects_infinite_gamma error "--gamma: inf is not a finite number" NO_MATCH "epoch" ARGS --gamma inf)
comet_cli_test(rejects_k_above_n error "k = 5 must be in \\[1, n = 4\\]" NO_MATCH "epoch" ARGS ${cli_small} --k 5)
comet_cli_test(rejects_hash_with_k_2 error "hash routing sends each sample to one expert" NO_MATCH "epoch"
               ARGS --gate hash --k 2)
comet_cli_test(rejects_save_into_missing_directory error "directory '[^']*no-such-dir' does not exist" NO_MATCH "epoch"
               ARGS ${cli_small} --save ${CMAKE_CURRENT_BINARY_DIR}/no-such-dir/x.safetensors)
comet_cli_test(rejects_a_file_that_is_not_a_checkpoint error "README.md': header size" NO_MATCH "epoch  1"
               ARGS ${cli_small} --load ${PROJECT_SOURCE_DIR}/README.md)
comet_cli_test(trains_and_saves ok "epoch  1 train.*saved" ARGS ${cli_small} --epochs 1 --save ${cli_checkpoint})
comet_cli_test(loads_its_checkpoint ok "epoch  0 \\(init\\)" ARGS ${cli_small} --epochs 0 --load ${cli_checkpoint})
comet_cli_test(refuses_a_checkpoint_of_another_shape error "written for another architecture \\(field 'n': 4 in the file, 8 here\\)" NO_MATCH "epoch  0"
               ARGS --experts 8 --samples 2048 --threads 1 --epochs 0 --load ${cli_checkpoint})
set(cli_training ${CMAKE_CURRENT_BINARY_DIR}/cli_training.safetensors)
add_test(NAME tools/training_checkpoint_setup COMMAND ${CMAKE_COMMAND} -E rm -f ${cli_training})
comet_cli_test(training_checkpoint_first_epoch ok "epoch  1 train" ARGS ${cli_small} --epochs 1 --checkpoint ${cli_training})
comet_cli_test(training_checkpoint_resumes ok "epoch  1 \\(resumed\\).*epoch  2 train" NO_MATCH "epoch  1 train"
               ARGS ${cli_small} --epochs 2 --checkpoint ${cli_training})
comet_cli_test(training_checkpoint_refuses_another_run error "written for another run .*this one is .*lr=0.001"
               NO_MATCH "epoch  2 train" ARGS ${cli_small} --epochs 2 --lr 1e-3 --checkpoint ${cli_training})
comet_cli_test(rejects_load_with_checkpoint error "--load and --checkpoint exclude each other" NO_MATCH "epoch"
               ARGS ${cli_small} --load ${PROJECT_SOURCE_DIR}/README.md --checkpoint ${cli_training})
set_tests_properties(tools/training_checkpoint_setup PROPERTIES FIXTURES_SETUP cli_training_clean)
set_tests_properties(tools/training_checkpoint_first_epoch PROPERTIES FIXTURES_REQUIRED cli_training_clean
                     FIXTURES_SETUP cli_training)
set_tests_properties(tools/training_checkpoint_resumes PROPERTIES FIXTURES_REQUIRED cli_training
                     FIXTURES_SETUP cli_training_resumed)
set_tests_properties(tools/training_checkpoint_refuses_another_run PROPERTIES FIXTURES_REQUIRED cli_training_resumed)
set_tests_properties(tools/trains_and_saves PROPERTIES FIXTURES_SETUP cli_checkpoint)
set_tests_properties(tools/loads_its_checkpoint tools/refuses_a_checkpoint_of_another_shape
                     PROPERTIES FIXTURES_REQUIRED cli_checkpoint)
