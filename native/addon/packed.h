// Packed batches: getMany / setMany / iteration of numeric and string keys without a
// Node-API call per element.
//
// The generic batch calls read each key out of a JS array and write each result into
// one: several Node-API calls per element, which cost more than the lookups. Packed
// batches use typed arrays and strings instead, read or written in one go:
//
//   f64 keys      a Float64Array
//   i64 keys      a BigInt64Array (range-checked in JS)
//   string keys   one string, the keys joined, with a Uint32Array of their lengths
//                 (UTF-16 units: every string round-trips, lone surrogates included)
//   f64 / i64 values, 'any' slab indexes   a Float64Array / BigInt64Array / Float64Array
//                 (out) or Uint32Array ('any' candidates in, stored indexes out)
//   found flags   a Uint8Array
//   iteration     numeric keys / values into typed arrays as above; string keys and
//                 values as one joined string per batch and a Uint32Array of lengths
//                 (JoinedStrings), which the façade slices
//
// String and bytes values still cross one by one (as a JS array). The façade picks the
// packed calls when every element has the right JS type; anything else takes the
// generic calls, which report the error.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/blob.h"

namespace gomap::addon {

enum class PackedForm : uint8_t { kNone, kF64, kI64, kString, kSlab };

struct PackedKeys {
  PackedForm form = PackedForm::kNone;
  uint32_t count = 0;
  const uint64_t* words = nullptr;  // kF64 (double bits) / kI64
  const char16_t* units = nullptr;  // kString: the joined keys
  const uint32_t* lengths = nullptr;  // kString: units per key
};

// What one packed iteration step produced.
struct PackedBatch {
  uint32_t count = 0;
  bool finished = false;
  napi_value keys = nullptr;    // joined string keys, or nullptr
  napi_value values = nullptr;  // joined string values, or nullptr
};

// A typed array argument: where numeric values go (getMany, iteration) or come from
// (setMany), or the lengths of joined strings (iteration).
struct PackedValues {
  PackedForm form = PackedForm::kNone;  // kF64 / kI64: words; kSlab: u32 (a Uint32Array)
  uint64_t* words = nullptr;
  uint32_t* u32 = nullptr;  // 'any' slab indexes (setMany), or string lengths (iteration)
  uint32_t count = 0;
};

// Strings of one iteration batch, joined into one JS string (one-byte when every piece is
// Latin-1, else two-byte). The façade cuts it apart with the lengths given by add().
class JoinedStrings {
 public:
  // Appends a kTagLatin1 / kTagUtf16 blob; returns its length in UTF-16 units.
  uint32_t add(const Blob& blob);
  size_t units() const { return units_; }
  // The joined string; nullptr (with a JS exception) on failure.
  napi_value toJs(napi_env env) const;

 private:
  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> pieces_;  // byte length of each piece, high bit set for UTF-16
  size_t units_ = 0;
  bool wide_ = false;
};

// JoinedStrings of a batch stop growing past this many units (the last piece may cross
// it): a key sliced out of the batch string keeps the whole string alive.
constexpr size_t kMaxJoinedUnits = 1 << 16;

}  // namespace gomap::addon
