// A software prefetch hint, for Swift, which has no prefetch of its own (`_mm_prefetch` is a C macro
// and is not imported). Static inline, so the Swift kernels compile it to one prefetcht0 instruction.
#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Asks the CPU to bring the cache line at `address` into all cache levels (a hint: no fault, no effect
/// on results).
static inline void toolrouter_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
