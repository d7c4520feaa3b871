// Batches: many keys (or values) converted up front, for getMany / setMany.
//
// A batch call converts and validates every element before the map is touched, so a bad
// element throws with the map unchanged. Word views are kept as they are; blob views are
// copied into one arena (the codecs' scratch buffers are reused per element) and their
// pointers fixed up once every element is in (the arena may move while it grows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/blob.h"

namespace gomap::addon {

template <class View>
class ViewBatch {
 public:
  static constexpr bool kBlob = std::is_same_v<View, Blob>;

  // Throws std::bad_alloc when memory runs out.
  void reserve(size_t n) {
    views_.reserve(n);
    if constexpr (kBlob) offsets_.reserve(n);
  }

  void add(const View& v) {
    if constexpr (kBlob) {
      offsets_.push_back(arena_.size());
      if (v.len != 0) arena_.insert(arena_.end(), v.data, v.data + v.len);
      views_.push_back(Blob{v.tag, nullptr, v.len});
    } else {
      views_.push_back(v);
    }
  }

  // Forgets the last view added.
  void dropLast() {
    if constexpr (kBlob) {
      arena_.resize(offsets_.back());
      offsets_.pop_back();
    }
    views_.pop_back();
  }

  // The views, valid until the batch is changed or destroyed.
  const View* finish() {
    if constexpr (kBlob) {
      static const uint8_t kNothing = 0;
      for (size_t i = 0; i < views_.size(); ++i)
        views_[i].data = views_[i].len != 0 ? arena_.data() + offsets_[i] : &kNothing;
    }
    return views_.data();
  }

  size_t size() const { return views_.size(); }

 private:
  std::vector<View> views_;
  std::vector<uint8_t> arena_;
  std::vector<size_t> offsets_;
};

}  // namespace gomap::addon
