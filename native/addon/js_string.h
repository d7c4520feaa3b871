// JS strings <-> blobs, with exactly one encoding per string.
//
// A JS string is a sequence of UTF-16 code units (lone surrogates allowed). The core
// compares keys byte by byte, so each string must have a single canonical encoding:
//   every unit < 256  -> kTagLatin1, one byte per unit   ("user:42", "café")
//   otherwise         -> kTagUtf16, two bytes per unit (native byte order)
// V8 may hold the same text as a one-byte or a two-byte string; both read the same here.
//
// Reading goes through napi_get_value_string_utf16 (lossless, unlike the Latin-1 and UTF-8
// readers) into a stack buffer; only strings longer than kInlineUnits touch the heap.
// Narrowing and the "all units < 256" test are one vectorizable pass.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/blob.h"

namespace gomap::addon {

class StringReader {
 public:
  static constexpr size_t kInlineUnits = 128;

  StringReader() = default;
  StringReader(const StringReader&) = delete;
  StringReader& operator=(const StringReader&) = delete;

  // Reads `value` as a string blob that views this reader's buffers (valid until the next
  // read). Returns napi_string_expected, throwing nothing, when `value` is not a string.
  napi_status read(napi_env env, napi_value value, Blob* out) {
    size_t length = 0;
    napi_status status = napi_get_value_string_utf16(env, value, units_, kInlineUnits, &length);
    if (status != napi_ok) return status;
    const char16_t* units = units_;
    uint8_t* narrow = narrow_;
    if (length == kInlineUnits - 1) {
      // The buffer is full: the string may be longer. Ask for its length and read it all.
      status = readLong(env, value, &length, &units, &narrow);
      if (status != napi_ok) return status;
    }
    char16_t all = 0;
    for (size_t i = 0; i < length; ++i) {
      all |= units[i];
      narrow[i] = static_cast<uint8_t>(units[i]);
    }
    if (all < 0x100) {
      *out = Blob{kTagLatin1, narrow, static_cast<uint32_t>(length)};
    } else {
      *out = Blob{kTagUtf16, reinterpret_cast<const uint8_t*>(units), static_cast<uint32_t>(length * 2)};
    }
    return napi_ok;
  }

 private:
  napi_status readLong(napi_env env, napi_value value, size_t* length, const char16_t** units,
                       uint8_t** narrow);

  char16_t units_[kInlineUnits];
  uint8_t narrow_[kInlineUnits];
  std::unique_ptr<char16_t[]> heapUnits_;
  std::unique_ptr<uint8_t[]> heapNarrow_;
  size_t heapCapacity_ = 0;
};

// A JS string from a kTagLatin1 / kTagUtf16 blob (the UTF-16 bytes may be unaligned).
napi_value stringFromBlob(napi_env env, const Blob& blob);

}  // namespace gomap::addon
