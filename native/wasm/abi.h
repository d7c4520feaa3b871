// The memory protocol between lib/wasm/ (JavaScript) and the WebAssembly exports.
//
// The module imports nothing and exchanges only numbers through its exports. Everything
// else travels through linear memory, in two places the JS side finds by calling
// gomap_io() and gomap_scratch():
//
//   The I/O area (struct Io, one per module instance, 8-byte aligned):
//     key     the key of a single-key call (in), the key of an iterated entry (out)
//     value   the value of set (in)
//     out     the value found by get / iterated / removed by delete (out)
//     stats   a map's MapStats as 12 doubles (gomap_stats)
//
//   The scratch buffer: bytes of blob keys and values written by JS, and the argument
//   arrays of the batch calls (gomap_get_many / gomap_set_many). It grows on request;
//   its address may change then (and linear memory may grow, which detaches JS views).
//
// A key or value is an Arg, one layout for every kind:
//   word kinds   f64 keys: the raw double bits (the export folds -0 and NaNs, as the
//                addon's F64Keys does); f64 values: the exact bits; i64: two's
//                complement; 'any' values: the slab index
//   blob kinds   tag (core/blob.h BlobTag), address and length of the bytes, which JS
//                encodes exactly as the addon's key codecs do (native/addon/key_codec.h,
//                js_string.h): Latin-1 when every UTF-16 unit is < 256, else UTF-16LE;
//                tagged primitives for 'any' keys
// An Arg produced by an export (out, iterated keys) views map memory: valid until the
// next call that changes the map; JS copies it at once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/go_map.h"  // MapOptions
#include "core/map_stats.h"

namespace gomap::wasm {

struct Arg {
  uint64_t word;
  uint32_t ptr;
  uint32_t len;
  uint32_t tag;
  uint32_t reserved;
};
static_assert(sizeof(Arg) == 24, "lib/wasm/layout.ts mirrors this layout");

constexpr size_t kStatsCount = 12;

struct Io {
  Arg key;
  Arg value;
  Arg out;
  double stats[kStatsCount];
};
static_assert(offsetof(Io, key) == 0 && offsetof(Io, value) == 24 && offsetof(Io, out) == 48 &&
                  offsetof(Io, stats) == 72,
              "lib/wasm/layout.ts mirrors this layout");

// The MapOptions of a create export: `hint` entries, and the seed JS always passes, as
// two 32-bit words (lib/wasm/heap.ts seedWords).
inline MapOptions seededOptions(double hint, uint32_t seedLo, uint32_t seedHi) {
  MapOptions options;
  options.hint = static_cast<uint64_t>(hint);
  options.seed = (static_cast<uint64_t>(seedHi) << 32) | seedLo;
  options.fixedSeed = true;
  return options;
}

// A map's MapStats as the kStatsCount doubles of Io::stats, in API.md's order (the
// gomap_stats exports write them; lib/wasm/heap.ts mapStatsAt reads them).
inline void writeMapStats(const MapStats& s, double* out) {
  out[0] = static_cast<double>(s.count);
  out[1] = s.B;
  out[2] = static_cast<double>(s.buckets);
  out[3] = static_cast<double>(s.overflowBuckets);
  out[4] = s.loadFactor;
  out[5] = s.growing ? 1 : 0;
  out[6] = static_cast<double>(s.oldBuckets);
  out[7] = static_cast<double>(s.evacuated);
  out[8] = static_cast<double>(s.grows);
  out[9] = static_cast<double>(s.sameSizeGrows);
  out[10] = static_cast<double>(s.shrinks);
  out[11] = static_cast<double>(s.bytes);
}

// Results of the calls that may fail (negative, so they never collide with counts).
constexpr int32_t kResultNoMemory = -1;
constexpr int32_t kResultTooLarge = -2;
constexpr int32_t kResultWrongForm = -3;  // a word batch on a map whose kinds are not words

}  // namespace gomap::wasm
