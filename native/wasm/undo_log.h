// UndoLog: the values a setMany overwrote, so that running out of memory half-way can put
// them back (a batch stores every entry or none, as the addon's storeBatch does).
//
// Blob values are copied: the map frees an overwritten value's box at once. Every
// allocation here is checked (the module is built without exceptions): record() returns
// false when memory runs out, before the map is changed, so the caller can undo what it
// did so far and report kNoMemory.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "core/blob.h"

namespace gomap::wasm {

template <class View>
class UndoLog {
 public:
  static constexpr bool kBlob = std::is_same_v<View, Blob>;

  UndoLog() = default;
  UndoLog(const UndoLog&) = delete;
  UndoLog& operator=(const UndoLog&) = delete;
  ~UndoLog() {
    for (uint32_t i = 0; i < size_; ++i) release(entries_[i]);
    std::free(entries_);
  }

  // Remembers v (copying a blob's bytes); false when memory runs out.
  bool record(const View& v) {
    if (size_ == capacity_) {
      uint32_t more = capacity_ == 0 ? 16 : capacity_ * 2;
      auto* grown = static_cast<View*>(std::realloc(entries_, sizeof(View) * more));
      if (grown == nullptr) return false;
      entries_ = grown;
      capacity_ = more;
    }
    View copy = v;
    if constexpr (kBlob) {
      uint8_t* bytes = static_cast<uint8_t*>(std::malloc(v.len == 0 ? 1 : v.len));
      if (bytes == nullptr) return false;
      if (v.len != 0) std::memcpy(bytes, v.data, v.len);
      copy.data = bytes;
    }
    entries_[size_++] = copy;
    return true;
  }

  // The values recorded, oldest first; pop() hands them back newest first.
  bool empty() const { return size_ == 0; }
  const View& back() const { return entries_[size_ - 1]; }
  void pop() { release(entries_[--size_]); }

 private:
  static void release(View& v) {
    if constexpr (kBlob) std::free(const_cast<uint8_t*>(v.data));
    (void)v;
  }

  View* entries_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace gomap::wasm
