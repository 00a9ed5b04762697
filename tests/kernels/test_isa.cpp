// The ISA registry of kernels/cpu/isa.h: detection (scalar always there, the default is the best supported),
// COMET_ISA's parsing and refusals (unknown names, an ISA the CPU lacks: the message names the value and what the
// CPU supports), IsaScope forcing and restoring a path, and each built kernel's block sizes fitting its tile.
// The GEMM results per ISA are tested in tests/kernels/test_gemm.cpp; tests/CMakeLists.txt runs this program
// with a bad COMET_ISA and expects the refusal message.
#include <doctest/doctest.h>

#include <cstdlib>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/sgemm_kernel.h"
#include "test_util.h"

namespace comet::cpu {
namespace {

TEST_CASE("isa: scalar is always supported and the active ISA is supported (the best one unless COMET_ISA is set)") {
  const std::vector<Isa> supported = supported_isas();
  REQUIRE(!supported.empty());
  CHECK(supported.front() == Isa::scalar);
  CHECK(cpu_supports(active_isa()));
  MESSAGE("this CPU supports: ", isa_names(supported), "; active: ", std::string(isa_name(active_isa())));
  const char* setting = std::getenv("COMET_ISA");
  if (setting == nullptr || *setting == '\0') CHECK(active_isa() == supported.back());
}

TEST_CASE("isa: COMET_ISA names a path, and unset or empty means the best supported") {
  const std::vector<Isa> avx2_cpu = {Isa::scalar, Isa::avx2};
  CHECK(choose_isa(nullptr, avx2_cpu) == Isa::avx2);
  CHECK(choose_isa("", avx2_cpu) == Isa::avx2);
  CHECK(choose_isa("scalar", avx2_cpu) == Isa::scalar);
  CHECK(choose_isa("avx2", avx2_cpu) == Isa::avx2);
  CHECK(choose_isa("avx512", {Isa::scalar, Isa::avx2, Isa::avx512}) == Isa::avx512);
  CHECK(choose_isa(nullptr, {Isa::scalar}) == Isa::scalar);
}

TEST_CASE("isa: COMET_ISA refuses an unknown name and an ISA the CPU lacks, naming both") {
  const std::vector<Isa> avx2_cpu = {Isa::scalar, Isa::avx2};
  CHECK(test::error_of([&] { choose_isa("avx512", avx2_cpu); }) ==
        "COMET_ISA=avx512: this CPU does not support avx512 (it supports: scalar, avx2)");
  for (const char* bad : {"avx3", "AVX2", "avx2 ", "sse"}) {
    CHECK(test::error_of([&] { choose_isa(bad, avx2_cpu); }) ==
          fmt::format("COMET_ISA={}: unknown ISA; the ISAs are scalar, avx2, avx512, and this CPU supports: "
                      "scalar, avx2",
                      bad));
  }
}

TEST_CASE("isa: IsaScope forces a supported path, nests and restores, and refuses one the CPU lacks") {
  const Isa before = active_isa();
  for (Isa outer : supported_isas()) {
    const IsaScope scope(outer);
    CHECK(active_isa() == outer);
    {
      const IsaScope inner(Isa::scalar);
      CHECK(active_isa() == Isa::scalar);
    }
    CHECK(active_isa() == outer);
  }
  CHECK(active_isa() == before);
  for (Isa isa : kAllIsas) {
    if (cpu_supports(isa)) continue;
    CHECK(test::error_of([&] { IsaScope scope(isa); }).find("this CPU does not support") != std::string::npos);
    CHECK(active_isa() == before);
  }
}

TEST_CASE("isa: every supported path has a kernel whose cache blocks are whole tiles") {
  for (Isa isa : supported_isas()) {
    const SgemmKernel& k = sgemm_kernel(isa);
    INFO(isa_name(isa), ": ", k.mr, " x ", k.nr, " tile, blocks ", k.mc, " / ", k.kc, " / ", k.nc);
    CHECK(k.isa == isa);
    CHECK(k.mc % k.mr == 0);
    CHECK(k.nc % k.nr == 0);
    CHECK(k.kc > 0);
    if (k.narrow) {  // the kernel for narrow C: same ISA and k slices, whole tiles too
      CHECK(k.narrow->isa == isa);
      CHECK(k.narrow->kc == k.kc);
      CHECK(k.narrow->nr <= k.nr);
      CHECK(k.narrow->mc % k.narrow->mr == 0);
      CHECK(k.narrow->nc % k.narrow->nr == 0);
      CHECK(k.narrow->narrow == nullptr);
    }
  }
}

}  // namespace
}  // namespace comet::cpu
