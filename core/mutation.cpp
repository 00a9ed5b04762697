#include "core/mutation.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace comet::mutation {
namespace {

struct Entry {
  const char* name;
  const char* description;
};

constexpr Entry kMutants[] = {
#define COMET_MUTANT_ENTRY(name, description) {#name, description},
    COMET_MUTANTS(COMET_MUTANT_ENTRY)
#undef COMET_MUTANT_ENTRY
};
constexpr int kCount = static_cast<int>(sizeof(kMutants) / sizeof(kMutants[0]));

// The index of the mutant that COMET_MUTANT names, or -1 when it is unset or empty.
int selected() {
  const char* env = std::getenv("COMET_MUTANT");
  if (env == nullptr || *env == '\0') return -1;
  for (int i = 0; i < kCount; ++i)
    if (std::strcmp(env, kMutants[i].name) == 0) return i;
  std::fprintf(stderr, "COMET_MUTANT=%s: unknown mutant; the mutants are:\n", env);
  for (const Entry& e : kMutants) std::fprintf(stderr, "  %-32s %s\n", e.name, e.description);
  std::exit(2);
}

}  // namespace

bool active(Mutant m) {
  static const int chosen = selected();
  return chosen == static_cast<int>(m);
}

}  // namespace comet::mutation
