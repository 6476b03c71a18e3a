#include "vector_registers.hpp"

namespace junction::daemon {

__attribute__((noinline)) void wipe_vector_registers() noexcept {
#if defined(__x86_64__)
    // Each instruction runs only where cpuid says the CPU has it. The registers are not
    // declared clobbered (xmm16-31 cannot be without -mavx512f): nothing is live in them
    // here, as no vector register survives a call.
    if (__builtin_cpu_supports("avx512f")) {
        asm volatile(
            "vpxord %zmm16, %zmm16, %zmm16\n\tvpxord %zmm17, %zmm17, %zmm17\n\t"
            "vpxord %zmm18, %zmm18, %zmm18\n\tvpxord %zmm19, %zmm19, %zmm19\n\t"
            "vpxord %zmm20, %zmm20, %zmm20\n\tvpxord %zmm21, %zmm21, %zmm21\n\t"
            "vpxord %zmm22, %zmm22, %zmm22\n\tvpxord %zmm23, %zmm23, %zmm23\n\t"
            "vpxord %zmm24, %zmm24, %zmm24\n\tvpxord %zmm25, %zmm25, %zmm25\n\t"
            "vpxord %zmm26, %zmm26, %zmm26\n\tvpxord %zmm27, %zmm27, %zmm27\n\t"
            "vpxord %zmm28, %zmm28, %zmm28\n\tvpxord %zmm29, %zmm29, %zmm29\n\t"
            "vpxord %zmm30, %zmm30, %zmm30\n\tvpxord %zmm31, %zmm31, %zmm31\n\t"
            "vpxord %zmm0, %zmm0, %zmm0\n\tvpxord %zmm1, %zmm1, %zmm1\n\t"
            "vpxord %zmm2, %zmm2, %zmm2\n\tvpxord %zmm3, %zmm3, %zmm3\n\t"
            "vpxord %zmm4, %zmm4, %zmm4\n\tvpxord %zmm5, %zmm5, %zmm5\n\t"
            "vpxord %zmm6, %zmm6, %zmm6\n\tvpxord %zmm7, %zmm7, %zmm7\n\t"
            "vpxord %zmm8, %zmm8, %zmm8\n\tvpxord %zmm9, %zmm9, %zmm9\n\t"
            "vpxord %zmm10, %zmm10, %zmm10\n\tvpxord %zmm11, %zmm11, %zmm11\n\t"
            "vpxord %zmm12, %zmm12, %zmm12\n\tvpxord %zmm13, %zmm13, %zmm13\n\t"
            "vpxord %zmm14, %zmm14, %zmm14\n\tvpxord %zmm15, %zmm15, %zmm15\n\t"
            "vzeroupper");
    } else if (__builtin_cpu_supports("avx")) {
        asm volatile("vzeroall");
    } else {
        asm volatile(
            "pxor %xmm0, %xmm0\n\tpxor %xmm1, %xmm1\n\tpxor %xmm2, %xmm2\n\tpxor %xmm3, %xmm3\n\t"
            "pxor %xmm4, %xmm4\n\tpxor %xmm5, %xmm5\n\tpxor %xmm6, %xmm6\n\tpxor %xmm7, %xmm7\n\t"
            "pxor %xmm8, %xmm8\n\tpxor %xmm9, %xmm9\n\tpxor %xmm10, %xmm10\n\tpxor %xmm11, %xmm11\n\t"
            "pxor %xmm12, %xmm12\n\tpxor %xmm13, %xmm13\n\tpxor %xmm14, %xmm14\n\tpxor %xmm15, %xmm15");
    }
#endif
}

}  // namespace junction::daemon
