// Storage of the op case table (filled by static registrations in tests/autograd/cases_*.cpp).
#include "op_cases.h"

namespace comet::test {
std::map<std::string, CaseMaker>& op_cases() {
  static std::map<std::string, CaseMaker> table;
  return table;
}
}  // namespace comet::test
