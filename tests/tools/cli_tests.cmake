# Command-line tests of tools/comet_train (included by tests/CMakeLists.txt when the tools are built): bad options
# fail before any training with a message naming the option, and a small run saves a checkpoint that loads back
# (and is refused by a model of another shape). Each runs tests/tools/run_cli.cmake.
set(cli_small --experts 4 --samples 2048 --threads 1)
set(cli_checkpoint ${CMAKE_CURRENT_BINARY_DIR}/cli_checkpoint.safetensors)
function(comet_cli_test name expect match)
  cmake_parse_arguments(T "" "NO_MATCH" "ARGS;ENV" ${ARGN})
  set(extra "")
  if(T_NO_MATCH)
    set(extra -DNO_MATCH=${T_NO_MATCH})
  endif()
  string(REPLACE ";" "\\;" args "${T_ARGS}")
  add_test(NAME tools/${name}
           COMMAND ${CMAKE_COMMAND} -E env ${T_ENV} ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:comet_train> -DARGS=${args}
                   -DEXPECT=${expect} -DMATCH=${match} ${extra} -P ${CMAKE_CURRENT_LIST_DIR}/run_cli.cmake)
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
comet_cli_test(rejects_a_thread_count_that_is_not_a_number error "COMET_NUM_THREADS must be a positive integer or 'auto', got 'many'"
               NO_MATCH "epoch  1" ENV COMET_NUM_THREADS=many ARGS --experts 4 --samples 2048 --epochs 1)
comet_cli_test(trains_with_the_team_fitted_to_the_load ok "epoch  1 train"
               ENV COMET_NUM_THREADS=auto ARGS --experts 4 --samples 2048 --epochs 1)
comet_cli_test(trains_and_saves ok "epoch  1 train.*saved" ARGS ${cli_small} --epochs 1 --save ${cli_checkpoint})
comet_cli_test(loads_its_checkpoint ok "epoch  0 \\(init\\)" ARGS ${cli_small} --epochs 0 --load ${cli_checkpoint})
comet_cli_test(rebuilds_the_model_from_its_checkpoint ok "comet gate \\+ learned permutation, n = 4, k = 2.*epoch  0 \\(init\\)"
               ARGS --samples 2048 --threads 1 --epochs 0 --load ${cli_checkpoint})
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
                     tools/rebuilds_the_model_from_its_checkpoint
                     PROPERTIES FIXTURES_REQUIRED cli_checkpoint)

# Data sets, run directories and --config.
comet_cli_test(dataset_needs_its_files error "dataset movielens: give the file or folder with --data" NO_MATCH "epoch"
               ARGS --dataset movielens)
comet_cli_test(rejects_synthetic_options_elsewhere error "--samples applies to --dataset synthetic only, not movielens"
               NO_MATCH "epoch" ARGS --dataset movielens --samples 1000)
comet_cli_test(rejects_gate_options_for_other_gates error "--gamma applies to the comet and dselect gates, not topk"
               NO_MATCH "epoch" ARGS --gate topk --gamma 1)
comet_cli_test(rejects_a_missing_out_parent error "--out [^:]*/no-such-dir/run: directory '[^']*no-such-dir' does not exist"
               NO_MATCH "epoch" ARGS ${cli_small} --out ${CMAKE_CURRENT_BINARY_DIR}/no-such-dir/run)
comet_cli_test(rejects_a_negative_seed error "--seed: -1 is not a non-negative integer" NO_MATCH "epoch" ARGS --seed -1)
comet_cli_test(rejects_k_for_softmax error "--k applies to sparse gates" NO_MATCH "epoch" ARGS --gate softmax --k 2)
comet_cli_test(softmax_with_one_expert ok "softmax gate.*n = 1.*epoch  1 train"
               ARGS --gate softmax --experts 1 --local-search none --samples 2048 --epochs 1 --threads 1)
comet_cli_test(lists_the_datasets ok "movielens .*multifashionmnist .*custom " ARGS --list-datasets)
set(cli_run ${CMAKE_CURRENT_BINARY_DIR}/cli_run)
add_test(NAME tools/run_directory_setup COMMAND ${CMAKE_COMMAND} -E rm -rf ${cli_run})
comet_cli_test(writes_a_run_directory ok "best epoch 1 \\| test t1 loss .*run directory: "
               ARGS ${cli_small} --epochs 1 --out ${cli_run})
add_test(NAME tools/run_directory_files
         COMMAND ${CMAKE_COMMAND} -DDIR=${cli_run} -P ${CMAKE_CURRENT_LIST_DIR}/check_run_directory.cmake)
comet_cli_test(reruns_from_its_config ok "n = 4, k = 2.*2048 / 512 / 512 rows.*epoch  2 train"
               ARGS --config ${cli_run}/config.json --epochs 2)
comet_cli_test(rejects_unknown_config_keys error "--config [^:]*README.md: not valid JSON" NO_MATCH "epoch"
               ARGS --config ${PROJECT_SOURCE_DIR}/README.md)
set_tests_properties(tools/run_directory_setup PROPERTIES FIXTURES_SETUP cli_run_clean)
set_tests_properties(tools/writes_a_run_directory PROPERTIES FIXTURES_REQUIRED cli_run_clean FIXTURES_SETUP cli_run)
set_tests_properties(tools/run_directory_files tools/reruns_from_its_config PROPERTIES FIXTURES_REQUIRED cli_run)

# Real data (skipped, and counted as skipped, where the shared data or Debian's Fashion-MNIST are absent).
function(comet_cli_data_test name path match)
  if(EXISTS ${path})
    comet_cli_test(${name} ok "${match}" ARGS ${ARGN})
  else()
    add_test(NAME tools/${name} COMMAND ${CMAKE_COMMAND} -E echo "MESSAGE: skipped: ${path} not found")
  endif()
  set_tests_properties(tools/${name} PROPERTIES SKIP_REGULAR_EXPRESSION "MESSAGE: skipped: ")
endfunction()
set(ml100k ${PROJECT_SOURCE_DIR}/../shared/data/movielens-100k/u.data)
comet_cli_data_test(trains_on_movielens_100k ${ml100k} "test t1 loss [0-9.]+ auc 0\\.[5-9][0-9]* .*t2 loss"
                    --dataset movielens --data ${ml100k} --train-rows 4096 --val-rows 1024 --test-rows 1024
                    --epochs 1 --threads 1)
set(comet_split ${PROJECT_SOURCE_DIR}/../shared/data/comet-movielens)
comet_cli_data_test(trains_on_the_comet_movielens_split ${comet_split} "train 190000 rows.*val 34944, test 199950.*test t1 loss .*auc"
                    --dataset movielens --data ${comet_split} --val-rows 1024 --test-rows 1024 --epochs 0 --threads 1)
comet_cli_data_test(trains_on_multifashionmnist /usr/share/datasets/fashion-mnist
                    "test top_left loss [0-9.]+ acc [0-9.]+ bottom_right loss [0-9.]+ acc"
                    --dataset multifashionmnist --train-rows 512 --val-rows 256 --test-rows 256 --epochs 1 --batch 128
                    --threads 1)

# tools/plot_run.py on a run directory it builds (Debian's python3 has matplotlib; skipped without it).
find_program(COMET_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT COMET_PYTHON)
  find_program(COMET_PYTHON NAMES python3)
endif()
if(COMET_PYTHON)
  add_test(NAME tools/plot_run COMMAND ${COMET_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_plot_run.py)
  set_tests_properties(tools/plot_run PROPERTIES SKIP_REGULAR_EXPRESSION "skipped: ")
endif()
comet_cli_test(rejects_unknown_idle_experts error "--idle-experts: sometimes not in \\{update,skip\\}" NO_MATCH "epoch"
               ARGS --idle-experts sometimes)
comet_cli_test(trains_skipping_idle_experts ok "epoch  1 train" ARGS ${cli_small} --gate topk --local-search none --batch 16
               --idle-experts skip --epochs 1)
comet_cli_test(trains_with_the_fused_expert_update ok "epoch  1 train" ARGS ${cli_small} --expert-update backward --epochs 1)
