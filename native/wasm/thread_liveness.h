// Thread identity and liveness of the WebAssembly threads build: see thread_liveness.cc.
// (core/lock.h declares the part its Mutex uses: selfId, isDead, brokenLock.)
#pragma once

#include <cstdint>

#include "core/lock.h"

namespace gomap::liveness {

// A new id, live (0: none left). Uses no stack memory: callable before the boot lock.
uint32_t claimId() noexcept;
// The thread about to leave the boot lock's static stack runs as `id` (claimed now when
// 0) until it has its own stack; returns it (0: none left).
uint32_t claimBootId(uint32_t id) noexcept;
// Pages [base, base + bytes) are the stack of thread `id`.
void ownStack(uint32_t id, void* base, uint32_t bytes) noexcept;
// The calling thread gives up its id (marked dead: what it holds is broken) and takes a
// new one for its stack and Thread; returns it (0: none left; the old one is dead all the
// same, and the thread must not call the module again).
uint32_t renewSelf() noexcept;
// The Thread of `id` (for release after its death).
void setThreadOf(uint32_t id, void* thread) noexcept;
// Marks a live `id` dead; true (with its Thread and stack, to free) when it was live.
bool markDead(uint32_t id, void** thread, void** stack) noexcept;
// The calling thread ends normally (it holds nothing; it still runs on its stack).
void markEnded() noexcept;
// The thread of an ended `id` is gone (its port closed): true, with its stack to free,
// when it had ended normally and was not marked gone before.
bool markGone(uint32_t id, void** stack) noexcept;
// Whether the calling thread's last trap came from a broken lock (and forgets it).
bool takeBrokenSeen() noexcept;

}  // namespace gomap::liveness
