// Value codecs: a JS value -> the core's value view, and a stored value -> a JS value.
//
// The native value kinds (the façade maps API.md's 'json' onto StringValues after
// JSON.stringify, and 'v8' onto BytesValues after v8.serialize):
//
//   F64Values     number -> Word64Value, the exact bits (-0 and NaN kept as they are)
//   I64Values     bigint -> Word64Value (RangeError outside the signed 64-bit range)
//   StringValues  string -> BlobValue, kTagLatin1 / kTagUtf16 (exact round trip)
//   BytesValues   Uint8Array / Buffer -> BlobValue, kTagBytes (read back as a new Buffer)
//   SlabValues    'any' values: the façade keeps the live JS value in a slab array and
//                 the map stores its u32 index (SlabIndexValue)
//
// read() returns false with a JS exception pending and leaves nothing behind.
#pragma once

#include <node_api.h>

#include <cstdint>

#include "core/blob.h"
#include "core/slots.h"
#include "errors.h"
#include "js_string.h"
#include "key_codec.h"

namespace gomap::addon {

struct F64Values {
  using Policy = Word64Value;
  using View = uint64_t;
  static constexpr const char* kName = "f64";
  static constexpr bool kSlab = false;
  static constexpr bool kInIo = true;  // fast calls pass the value in the I/O area
  struct Scratch {};

  static bool fromIo(napi_env, uint64_t bits, View* out) {
    *out = bits;  // the exact bits: -0 and NaN stay as they are
    return true;
  }
  static uint64_t toIo(View v) { return v; }

  static bool read(napi_env env, napi_value value, Scratch&, View* out) {
    double d;
    if (!readDouble(env, value, "value", kName, &d)) return false;
    *out = f64Bits(d);
    return true;
  }
  static napi_value toJs(napi_env env, View v) { return doubleToJs(env, bitsToF64(v)); }
};

struct I64Values {
  using Policy = Word64Value;
  using View = uint64_t;
  static constexpr const char* kName = "i64";
  static constexpr bool kSlab = false;
  static constexpr bool kInIo = true;
  struct Scratch {};

  static bool fromIo(napi_env, uint64_t bits, View* out) {
    *out = bits;  // range-checked in JS
    return true;
  }
  static uint64_t toIo(View v) { return v; }

  static bool read(napi_env env, napi_value value, Scratch&, View* out) {
    int64_t v;
    if (!readInt64(env, value, "value", kName, &v)) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  static napi_value toJs(napi_env env, View v) { return int64ToJs(env, static_cast<int64_t>(v)); }
};

struct StringValues {
  using Policy = BlobValue;
  using View = Blob;
  static constexpr const char* kName = "string";
  static constexpr bool kSlab = false;
  static constexpr bool kInIo = false;  // fast calls pass the value as an argument / result
  static bool fromIo(napi_env, uint64_t, View*) { return false; }
  static uint64_t toIo(const View&) { return 0; }
  struct Scratch {
    StringReader reader;
  };

  static bool read(napi_env env, napi_value value, Scratch& scratch, View* out) {
    return readStringBlob(env, value, scratch.reader, out, "value", kName);
  }
  static napi_value toJs(napi_env env, const View& v) { return blobToJs(env, v); }
};

struct BytesValues {
  using Policy = BlobValue;
  using View = Blob;
  static constexpr const char* kName = "bytes";
  static constexpr bool kSlab = false;
  static constexpr bool kInIo = false;  // fast calls pass the value as an argument / result
  static bool fromIo(napi_env, uint64_t, View*) { return false; }
  static uint64_t toIo(const View&) { return 0; }
  struct Scratch {};

  static bool read(napi_env env, napi_value value, Scratch&, View* out) {
    return readBytesBlob(env, value, out, "value", kName);
  }
  static napi_value toJs(napi_env env, const View& v) { return blobToJs(env, v); }
};

struct SlabValues {
  using Policy = SlabIndexValue;
  using View = uint32_t;
  static constexpr const char* kName = "any";
  static constexpr bool kSlab = true;
  static constexpr bool kInIo = true;
  struct Scratch {};

  static bool isIndex(double d) { return d >= 0 && d <= 4294967295.0 && static_cast<double>(static_cast<uint32_t>(d)) == d; }
  static bool fromIo(napi_env env, uint64_t bits, View* out) {
    double d = bitsToF64(bits);
    if (!isIndex(d)) {
      throwTypeError(env, "GoMap internal error: an 'any' value is passed as a slab index (an integer 0 <= i < 2^32)");
      return false;
    }
    *out = static_cast<uint32_t>(d);
    return true;
  }
  static uint64_t toIo(View v) { return f64Bits(static_cast<double>(v)); }

  static bool read(napi_env env, napi_value value, Scratch&, View* out) {
    double d;
    if (napi_get_value_double(env, value, &d) != napi_ok || !isIndex(d)) {
      throwTypeError(env, "GoMap internal error: an 'any' value is passed as a slab index (an integer "
                          "0 <= i < 2^32), got " + describeType(env, value));
      return false;
    }
    *out = static_cast<uint32_t>(d);
    return true;
  }
  static napi_value toJs(napi_env env, View v) {
    napi_value result = nullptr;
    napi_create_uint32(env, v, &result);
    return result;
  }
};

}  // namespace gomap::addon
