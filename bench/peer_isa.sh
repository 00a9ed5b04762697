# Sourced by the comparison scripts of bench/: PEER_ISA=avx2 stands in for an AVX2-only machine on an AVX-512 one.
# Sets two arrays of VAR=value words for `env`: ours_env (our programs: COMET_ISA=avx2) and peer_env (PyTorch:
# MKL_ENABLE_INSTRUCTIONS=AVX2 and ATEN_CPU_CAPABILITY=avx2, so neither MKL nor ATen runs AVX-512 code). Empty
# PEER_ISA leaves both empty: each side picks its best path. The caches and clocks stay those of the machine at
# hand, so the figures are a proxy for an AVX2 CPU, not a measurement of one.
peer_isa="${PEER_ISA:-}"
case "$peer_isa" in
  "") ours_env=() peer_env=() ;;
  avx2) ours_env=(COMET_ISA=avx2) peer_env=(MKL_ENABLE_INSTRUCTIONS=AVX2 ATEN_CPU_CAPABILITY=avx2) ;;
  *) echo "PEER_ISA must be empty or avx2, not '$peer_isa'" >&2; exit 1 ;;
esac
