// HandleTable: the small numbers JavaScript holds instead of pointers.
//
// JavaScript never sees a native pointer. A map (or an iterator) is named by a handle:
// a number that packs a slot index and the slot's generation,
//
//   handle = generation * 2^32 + index      (an integer below 2^53: exact as a double)
//
// A slot's generation changes every time the slot is freed, so a handle of a closed map
// no longer matches its slot (even when the slot has been reused for another map), and a
// number that was never issued almost never matches anything: both are refused, and the
// binding reports them as a closed map. Generations run from 1 to 2^21 - 1 and wrap, so a
// handle is never below 2^32 and 0 is never a handle (the façade uses 0 for "closed").
//
// Lookups are one range check, one conversion and one compare: they sit on the hot path
// of every call. Not thread-safe: each addon instance (one per JS thread) owns its tables.
#pragma once

#include <cstdint>
#include <vector>

namespace gomap::addon {

template <class T>
class HandleTable {
 public:
  // Stores p and returns its new handle. Throws std::bad_alloc when the table cannot grow.
  double add(T* p) {
    uint32_t index;
    if (freeHead_ != kNoSlot) {
      index = freeHead_;
      freeHead_ = slots_[index].nextFree;
    } else {
      slots_.push_back(Slot{nullptr, 1, kNoSlot});
      index = static_cast<uint32_t>(slots_.size() - 1);
    }
    Slot& s = slots_[index];
    s.ptr = p;
    ++live_;
    return static_cast<double>(handleOf(index, s.generation));
  }

  // The object a handle names, or nullptr when the handle is stale or was never issued.
  T* find(double handle) const {
    uint32_t index;
    uint32_t generation;
    if (!decode(handle, &index, &generation)) return nullptr;
    if (index >= slots_.size()) return nullptr;
    const Slot& s = slots_[index];
    return s.generation == generation ? s.ptr : nullptr;
  }

  // Forgets a handle; returns what it named (the caller deletes it), or nullptr.
  T* remove(double handle) {
    T* p = find(handle);
    if (p == nullptr) return nullptr;
    uint32_t index = static_cast<uint32_t>(static_cast<uint64_t>(handle) & kIndexMask);
    Slot& s = slots_[index];
    s.ptr = nullptr;
    s.generation = s.generation == kMaxGeneration ? 1 : s.generation + 1;
    s.nextFree = freeHead_;
    freeHead_ = index;
    --live_;
    return p;
  }

  size_t live() const { return live_; }

  // Calls fn(T*) for every live object (used to free everything at teardown).
  template <class F>
  void forEach(F&& fn) const {
    for (const Slot& s : slots_)
      if (s.ptr != nullptr) fn(s.ptr);
  }

 private:
  static constexpr uint32_t kNoSlot = 0xffffffffu;
  static constexpr uint64_t kIndexMask = 0xffffffffull;
  static constexpr uint32_t kMaxGeneration = (1u << 21) - 1;
  static constexpr double kSmallest = 4294967296.0;          // 2^32: generation 1, index 0
  static constexpr double kLimit = 9007199254740992.0;       // 2^53

  struct Slot {
    T* ptr;
    uint32_t generation;
    uint32_t nextFree;
  };

  static uint64_t handleOf(uint32_t index, uint32_t generation) {
    return (static_cast<uint64_t>(generation) << 32) | index;
  }
  static bool decode(double handle, uint32_t* index, uint32_t* generation) {
    if (!(handle >= kSmallest && handle < kLimit)) return false;  // also refuses NaN
    uint64_t u = static_cast<uint64_t>(handle);
    if (static_cast<double>(u) != handle) return false;  // not an integer
    *index = static_cast<uint32_t>(u & kIndexMask);
    *generation = static_cast<uint32_t>(u >> 32);
    return true;
  }

  std::vector<Slot> slots_;
  uint32_t freeHead_ = kNoSlot;
  size_t live_ = 0;
};

}  // namespace gomap::addon
