// Running a program (comet_train) as a child process in the tools tests: its standard output discarded, its
// standard error kept for the test log, or written to a file for the test to read.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace comet::test {

// Starts args[0] with args, its standard error into the file stderr_path when one is given; returns its pid.
inline pid_t spawn(const std::vector<std::string>& args, const std::string& stderr_path = "") {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (!std::freopen("/dev/null", "w", stdout)) _exit(126);
    if (!stderr_path.empty() && !std::freopen(stderr_path.c_str(), "w", stderr)) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Runs to the end (standard error as in spawn); returns the exit status (-1 when a signal ended it).
inline int run_to_end(const std::vector<std::string>& args, const std::string& stderr_path = "") {
  int status = 0;
  waitpid(spawn(args, stderr_path), &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace comet::test
