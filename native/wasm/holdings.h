// Holdings: what one thread of the threads build holds in the shared memory, so that
// someone else can give it back when the thread cannot (sync_exports.cc).
//
// A view of a map holds one reference in the registry (a map id); an iterator holds one
// reference to its map (the iterator's address, and its map's). A thread that ends
// normally gives them back itself. A thread that is terminated (worker.terminate()) runs
// no more code: without a record of what it held, the maps it viewed would never be
// freed. So every thread keeps this list in its Thread, and the watcher, once it saw the
// thread die, releases what the list says (gomap_sync_release_dead).
//
// A thread can be stopped at any instruction, so the list is whole at every step, and a
// reference is recorded after it is taken and forgotten before it is given back: a death
// in between leaks that one reference (its map is never freed), never gives it back
// twice. Growth copies into a new array, publishes it, then frees the old one.
//
// The count and the array pointer are atomics stored with release order only so that the
// compiler keeps each step in place (the list is read by the watcher after the thread
// died, never while it runs). Lookups scan from the end (the newest first); a thread holds
// few at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace gomap::wasm {

struct Holding {
  double mapId;   // a view: the registry id of its map; 0 for an iterator
  uint32_t map;   // an iterator: its map's address (0 for a view)
  uint32_t iter;  // an iterator: its address (0 for a view)
};

class Holdings {
 public:
  // Records one more holding; false when memory ran out (nothing recorded).
  bool add(const Holding& h) noexcept {
    const uint32_t n = count_.load(std::memory_order_relaxed);
    Holding* items = items_.load(std::memory_order_relaxed);
    if (n == capacity_) {
      const uint32_t more = capacity_ == 0 ? 8 : capacity_ * 2;
      auto* grown = static_cast<Holding*>(std::malloc(sizeof(Holding) * more));
      if (grown == nullptr) return false;
      if (n != 0) std::memcpy(grown, items, sizeof(Holding) * n);
      items_.store(grown, std::memory_order_release);
      capacity_ = more;
      std::free(items);
      items = grown;
    }
    items[n] = h;
    count_.store(n + 1, std::memory_order_release);
    return true;
  }

  // Forgets the newest holding equal to `h` (if any). The count drops before the last
  // entry moves into the hole: stopped in between, `h` is still listed (not given back
  // yet, so releasing it is right) and the moved entry is lost (a leak).
  void remove(const Holding& h) noexcept {
    const uint32_t n = count_.load(std::memory_order_relaxed);
    Holding* items = items_.load(std::memory_order_relaxed);
    for (uint32_t i = n; i-- > 0;) {
      if (items[i].mapId == h.mapId && items[i].map == h.map && items[i].iter == h.iter) {
        const Holding last = items[n - 1];
        count_.store(n - 1, std::memory_order_release);
        items[i] = last;
        return;
      }
    }
  }

  uint32_t size() const noexcept { return count_.load(std::memory_order_acquire); }
  const Holding& operator[](uint32_t i) const noexcept { return items_.load(std::memory_order_acquire)[i]; }

  // Frees the list (what it named must have been given back or given up first).
  void clear() noexcept {
    Holding* old = items_.load(std::memory_order_relaxed);
    count_.store(0, std::memory_order_release);
    items_.store(nullptr, std::memory_order_release);
    capacity_ = 0;
    std::free(old);
  }

 private:
  std::atomic<Holding*> items_{nullptr};
  std::atomic<uint32_t> count_{0};
  uint32_t capacity_ = 0;
};

}  // namespace gomap::wasm
