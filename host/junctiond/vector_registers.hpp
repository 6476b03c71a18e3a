// A thread's vector registers hold the last bytes it copied or compared: glibc's memcpy and
// memcmp move a request's Authorization header through them, and on an AVX-512 machine
// through ymm16-31, which vzeroupper leaves alone. They are in a core (NT_X86_XSTATE) as
// much as the heap is. A thread that handled a request zeroes them when it is done.
#pragma once

namespace junction::daemon {

// Zeroes every vector register this CPU has (SSE, AVX, AVX-512). Not inlined, and so a
// call like any other: under the x86-64 ABI the caller keeps nothing in them across it.
void wipe_vector_registers() noexcept;

}  // namespace junction::daemon
