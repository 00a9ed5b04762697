// CPU feature detection and the choice of ISA path (kernels/cpu/isa.h).
#include "kernels/cpu/isa.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

#if defined(COMET_X86_KERNELS)
#include <cpuid.h>
#endif

namespace comet::cpu {
namespace {

#if defined(COMET_X86_KERNELS)
// XCR0: which register states the OS saves and restores. The CPUID feature bits alone do not say that a
// kernel may use the registers (an OS without AVX-512 support leaves the ZMM state off).
uint64_t read_xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

bool detect(Isa isa) {
  if (isa == Isa::scalar) return true;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  // OSXSAVE first: without it XGETBV itself is an invalid instruction.
  if (!(ecx & bit_OSXSAVE) || !(ecx & bit_AVX) || !(ecx & bit_FMA)) return false;
  const uint64_t xcr0 = read_xcr0();
  constexpr uint64_t kXmmYmm = 0x6, kOpmaskZmm = 0xE0;  // bits 1-2: SSE, AVX; bits 5-7: k0-7, ZMM0-15 high, ZMM16-31
  if ((xcr0 & kXmmYmm) != kXmmYmm) return false;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) || !(ebx & bit_AVX2)) return false;
  if (isa == Isa::avx2) return true;
  return (ebx & bit_AVX512F) && (ebx & bit_AVX512VL) && (xcr0 & kOpmaskZmm) == kOpmaskZmm;
}
#else
bool detect(Isa isa) { return isa == Isa::scalar; }  // only the portable path is built for this architecture
#endif

constexpr int kNoScope = -1;
std::atomic<int> scoped_isa{kNoScope};

Isa isa_from_environment() {
  try {
    return choose_isa(std::getenv("COMET_ISA"), supported_isas());
  } catch (const Error& e) {  // stop here: the first caller may be inside an OpenMP region, where a throw aborts
    std::fprintf(stderr, "%s\n", e.what());
    std::exit(2);
  }
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "?";
}

bool cpu_supports(Isa isa) {
  static const bool supported[] = {detect(Isa::scalar), detect(Isa::avx2), detect(Isa::avx512)};
  return supported[static_cast<int>(isa)];
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : kAllIsas)
    if (cpu_supports(isa)) out.push_back(isa);
  return out;
}

std::string isa_names(const std::vector<Isa>& isas) {
  std::string out;
  for (Isa isa : isas) out += (out.empty() ? "" : ", ") + std::string(isa_name(isa));
  return out;
}

Isa choose_isa(const char* setting, const std::vector<Isa>& supported) {
  COMET_CHECK(!supported.empty(), "choose_isa: no supported ISA given");
  if (setting == nullptr || *setting == '\0') return supported.back();
  const std::vector<Isa> all(std::begin(kAllIsas), std::end(kAllIsas));
  for (Isa isa : all) {
    if (std::strcmp(setting, isa_name(isa)) != 0) continue;
    for (Isa s : supported)
      if (s == isa) return isa;
    throw Error(fmt::format("COMET_ISA={}: this CPU does not support {} (it supports: {})", setting, setting,
                            isa_names(supported)));
  }
  throw Error(fmt::format("COMET_ISA={}: unknown ISA; the ISAs are {}, and this CPU supports: {}", setting,
                          isa_names(all), isa_names(supported)));
}

Isa active_isa() {
  static const Isa from_environment = isa_from_environment();
  const int scoped = scoped_isa.load(std::memory_order_relaxed);
  return scoped == kNoScope ? from_environment : static_cast<Isa>(scoped);
}

IsaScope::IsaScope(Isa isa) : previous_(scoped_isa.load()) {
  COMET_CHECK(cpu_supports(isa), "IsaScope: this CPU does not support {} (it supports: {})", isa_name(isa),
              isa_names(supported_isas()));
  scoped_isa.store(static_cast<int>(isa));
}

IsaScope::~IsaScope() { scoped_isa.store(previous_); }

}  // namespace comet::cpu
