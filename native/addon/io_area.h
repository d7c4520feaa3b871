// The I/O area: a few 64-bit cells shared by the addon and lib/go-map.ts, so that the
// hot calls of maps with numeric keys and values carry no arguments and return nothing.
//
// Converting one argument or result through Node-API costs about as much as the hash
// lookup itself at small sizes (a napi call each way). Instead, the façade writes the
// map handle and a numeric key (and value) into this area with plain typed-array stores
// (a Float64Array and a BigInt64Array over the same 64 bytes), calls a fast function,
// and reads the result back:
//
//   cell 0  handle   the map handle (double)
//   cell 1  key      f64 keys: the number (double); i64 keys: the int64 (two's complement)
//   cell 2  value    in (set) and out (get): f64 bits, int64, or an 'any' slab index (double)
//   cell 3  result   found / inserted / deleted as 0 or 1 (double); for 'any' values of set
//                    and delete, the stored / removed slab index (-1: none)
//
// Strings, bytes and 'any' keys still come as an argument, and string / bytes values as
// an argument or a return value: only numbers travel through the area. The façade checks
// the JS types before it stores anything here (a typed-array store would coerce), and
// nothing else runs between its stores, the call and its reads, so one area per addon
// instance (per JS thread) serves every map.
#pragma once

#include <cstdint>
#include <cstring>

namespace gomap::addon {

enum IoCell : int { kIoHandle = 0, kIoKey = 1, kIoValue = 2, kIoResult = 3 };
constexpr size_t kIoCells = 8;
constexpr size_t kIoBytes = kIoCells * sizeof(uint64_t);

inline double ioDouble(const uint64_t* io, int cell) {
  double d;
  std::memcpy(&d, &io[cell], sizeof d);
  return d;
}

inline void ioSetDouble(uint64_t* io, int cell, double d) { std::memcpy(&io[cell], &d, sizeof d); }

}  // namespace gomap::addon
