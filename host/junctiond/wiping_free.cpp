// junctiond's heap is wiped when it is freed. Credentials pass through memory the daemon
// does not own the layout of: a request's bytes in Beast's buffers, a config's strings in a
// JSON document and its parse stack, an Authorization header in libcurl's buffers. Each is
// freed soon after use, and glibc leaves freed bytes as they were, so a core (or anything
// that reads the daemon's memory) found them long after. Wiping every block as it is freed
// covers them all, ours and the libraries', at the cost of a memset per free.
//
// glibc supports replacing its allocator functions in the executable (its manual, "Replacing
// malloc"); here only free and realloc are wrapped and the blocks still come from glibc
// (__libc_* are its exported entry points). Sanitizer builds keep their own allocator.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define JUNCTION_SANITIZED_HEAP 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define JUNCTION_SANITIZED_HEAP 1
#endif

#ifndef JUNCTION_SANITIZED_HEAP

#include <cstddef>
#include <cstring>

#include <malloc.h>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_realloc(void* block, size_t size);
void __libc_free(void* block);
}

namespace {

// A block glibc mapped on its own (above the mmap threshold) goes back to the kernel, which
// hands out only zeroed pages: wiping it would only fault in its untouched pages. The flag
// is bit 1 of the size word before the block (glibc's IS_MMAPPED, unchanged since 1996).
bool mapped_on_its_own(void* block) {
    const size_t size_word = static_cast<const size_t*>(block)[-1];
    return (size_word & 0x2) != 0;
}

// glibc's explicit_bzero is its vectorised memset that the compiler may not drop;
// OPENSSL_cleanse stores 8 bytes at a time and was 5% of the daemon's CPU in an order sync.
void wipe(void* block) {
    if (block != nullptr && !mapped_on_its_own(block)) explicit_bzero(block, malloc_usable_size(block));
}

}  // namespace

extern "C" {

void free(void* block) {
    wipe(block);
    __libc_free(block);
}

// glibc's realloc frees a moved block inside itself, unwiped: grow by hand instead, and let
// glibc shrink or grow a block mapped on its own (mremap keeps its pages, leaves no copy).
void* realloc(void* block, size_t size) {
    if (block == nullptr) return __libc_malloc(size);
    if (size == 0) {
        free(block);
        return nullptr;
    }
    if (mapped_on_its_own(block)) return __libc_realloc(block, size);
    const size_t usable = malloc_usable_size(block);
    if (size <= usable) return block;
    void* grown = __libc_malloc(size);
    if (grown == nullptr) return nullptr;
    std::memcpy(grown, block, usable);
    free(block);
    return grown;
}

}  // extern "C"

#endif  // JUNCTION_SANITIZED_HEAP
