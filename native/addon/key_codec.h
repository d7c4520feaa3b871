// Key codecs: a JS key -> the core's key view, and a stored key -> a JS value.
//
// One codec per key kind of API.md. Each names the core slot policy it stores into and
// converts without allocating in the common case (numbers in registers, strings and
// bigints in the codec's Scratch on the stack):
//
//   F64Keys    number  -> Word64Key, f64KeyBits (SameValueZero: -0 is 0, one NaN)
//   I64Keys    bigint  -> Word64Key, two's complement (RangeError outside int64)
//   StringKeys string  -> BlobKey, kTagLatin1 / kTagUtf16 (see js_string.h)
//   BytesKeys  Uint8Array / Buffer -> BlobKey, kTagBytes (returned as a new Buffer)
//   AnyKeys    any JS value -> BlobKey, tagged by type:
//                number   kTagNumber + 8 bytes of f64KeyBits
//                string   kTagLatin1 / kTagUtf16
//                bigint   kTagBigInt + sign byte + minimal little-endian magnitude
//                boolean, undefined, null   the tag alone
//                object, function, symbol   kTagObjectRef + the 8-byte identity id the
//                façade assigned (returned to JS as a one-element array [id])
//
// read() returns false with a JS exception pending (TypeError naming the expected kind and
// the received type, RangeError for sizes) and leaves nothing behind.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "core/blob.h"
#include "core/slots.h"
#include "errors.h"
#include "js_string.h"

namespace gomap::addon {

// Where the identity id of an object or symbol key comes from ('any' keys only): the
// refId argument of a single call (then the key argument is ignored), or element `index`
// of a batch's refIds (read out of the JS array before the call).
struct RefSource {
  napi_value single = nullptr;
  const napi_value* many = nullptr;
  uint32_t index = 0;
};

// Reads an identity id (an integer 0 <= id < 2^53) into 8 bytes.
bool readRefId(napi_env env, napi_value id, uint8_t out[8]);

// The JS value of any tagged blob (strings, bytes, 'any' key primitives, [id] refs).
napi_value blobToJs(napi_env env, const Blob& blob);

// Shared by the f64/i64 key and value codecs (role/kind name the argument in messages).
inline bool readDouble(napi_env env, napi_value value, const char* role, const char* kind, double* out) {
  if (napi_get_value_double(env, value, out) == napi_ok) return true;
  throwWrongKind(env, role, "a number", kind, value);
  return false;
}
inline napi_value doubleToJs(napi_env env, double d) {
  napi_value result = nullptr;
  napi_create_double(env, d, &result);
  return result;
}
inline bool readInt64(napi_env env, napi_value value, const char* role, const char* kind, int64_t* out) {
  bool lossless;
  if (napi_get_value_bigint_int64(env, value, out, &lossless) != napi_ok) {
    throwWrongKind(env, role, "a bigint", kind, value);
    return false;
  }
  if (!lossless) {
    throwRangeError(env, std::string("GoMap ") + role + " is outside the signed 64-bit range of " + role + " kind '" +
                             kind + "'");
    return false;
  }
  return true;
}
inline napi_value int64ToJs(napi_env env, int64_t v) {
  napi_value result = nullptr;
  napi_create_bigint_int64(env, v, &result);
  return result;
}

struct F64Keys {
  using Policy = Word64Key;
  using View = uint64_t;
  static constexpr const char* kName = "f64";
  static constexpr bool kInIo = true;  // fast calls pass the key in the I/O area
  struct Scratch {};

  // The key the façade stored in the I/O area (a double).
  static View fromIo(uint64_t bits) { return f64KeyBits(bitsToF64(bits)); }

  static bool read(napi_env env, napi_value value, const RefSource&, Scratch&, View* out) {
    double d;
    if (!readDouble(env, value, "key", kName, &d)) return false;
    *out = f64KeyBits(d);
    return true;
  }
  static napi_value toJs(napi_env env, View key) { return doubleToJs(env, bitsToF64(key)); }
};

struct I64Keys {
  using Policy = Word64Key;
  using View = uint64_t;
  static constexpr const char* kName = "i64";
  static constexpr bool kInIo = true;
  struct Scratch {};

  // The key the façade stored in the I/O area (an int64, range-checked in JS).
  static View fromIo(uint64_t bits) { return bits; }

  static bool read(napi_env env, napi_value value, const RefSource&, Scratch&, View* out) {
    int64_t v;
    if (!readInt64(env, value, "key", kName, &v)) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  static napi_value toJs(napi_env env, View key) { return int64ToJs(env, static_cast<int64_t>(key)); }
};

// Shared by StringKeys, the string branch of AnyKeys and StringValues (role/kind name the
// argument in messages).
inline bool readStringBlob(napi_env env, napi_value value, StringReader& reader, Blob* out, const char* role,
                           const char* kind) {
  napi_status status = reader.read(env, value, out);
  if (status == napi_ok) return true;
  if (status == napi_string_expected) throwWrongKind(env, role, "a string", kind, value);
  else throwStatus(env, Status::kNoMemory, "string conversion");
  return false;
}
// Uint8Array / Buffer contents as a kTagBytes blob (a view of the JS memory).
bool readBytesBlob(napi_env env, napi_value value, Blob* out, const char* role, const char* kind);

struct StringKeys {
  using Policy = BlobKey;
  using View = Blob;
  static constexpr const char* kName = "string";
  static constexpr bool kInIo = false;  // fast calls pass the key as an argument
  static View fromIo(uint64_t) { return Blob{0, nullptr, 0}; }
  struct Scratch {
    StringReader reader;
  };

  static bool read(napi_env env, napi_value value, const RefSource&, Scratch& scratch, View* out) {
    return readStringBlob(env, value, scratch.reader, out, "key", kName);
  }
  static napi_value toJs(napi_env env, const View& key) { return stringFromBlob(env, key); }
};

struct BytesKeys {
  using Policy = BlobKey;
  using View = Blob;
  static constexpr const char* kName = "bytes";
  static constexpr bool kInIo = false;  // fast calls pass the key as an argument
  static View fromIo(uint64_t) { return Blob{0, nullptr, 0}; }
  struct Scratch {};

  static bool read(napi_env env, napi_value value, const RefSource&, Scratch&, View* out) {
    return readBytesBlob(env, value, out, "key", kName);
  }
  static napi_value toJs(napi_env env, const View& key) { return blobToJs(env, key); }
};

struct AnyKeys {
  using Policy = BlobKey;
  using View = Blob;
  static constexpr const char* kName = "any";
  static constexpr bool kInIo = false;  // fast calls pass the key as an argument
  static View fromIo(uint64_t) { return Blob{0, nullptr, 0}; }
  struct Scratch {
    StringReader reader;
    uint8_t small[16];                 // number bits, identity ids, small bigints
    std::unique_ptr<uint8_t[]> big;    // bigints of more than kInlineBigIntWords words
    size_t bigCapacity = 0;
  };

  static bool read(napi_env env, napi_value value, const RefSource& ref, Scratch& scratch, View* out);
  static napi_value toJs(napi_env env, const View& key) { return blobToJs(env, key); }
};

}  // namespace gomap::addon
