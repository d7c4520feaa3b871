// SyncMap codecs: JS keys and values <-> the blobs the concurrent map stores.
//
// The concurrent map of the core (core/concurrent_map.h) stores every key and value as a
// tagged blob. One map has one key kind and one value kind (fixed at creation and carried
// by its handle), so a tag only has to be consistent within a kind:
//
//   kind     JS side                  blob
//   f64      number                   kTagNumber, 8 bytes: keys f64KeyBits (SameValueZero:
//                                     -0 is 0, one NaN); values the exact bits
//   i64      bigint (signed 64-bit)   kTagBigInt, 8 bytes of two's complement (RangeError
//                                     outside the range)
//   string   string                   kTagLatin1 / kTagUtf16, the canonical encoding of
//                                     js_string.h (exact round trip, lone surrogates too)
//   bytes    Uint8Array / Buffer      kTagBytes, the contents (read back as a new Buffer)
//   json     (value kind) the JSON text the façade made: stored as a string
//   v8       (value kind) the node:v8 serialization the façade made: stored as bytes
//
// Numbers and bigints are read with the GoMap codecs' readers (key_codec.h), strings with
// StringReader, bytes with readBytesBlob, so the checks and the error messages are the
// same as GoMap's. Readers return false with a JS exception pending; the blob they make
// views the scratch (or the JS memory of a Uint8Array) until the next read with it.
// Both sides of a thread run in the same process, so word bytes are in native order.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <cstring>

#include "core/blob.h"
#include "core/slots.h"
#include "key_codec.h"

namespace gomap::addon {

// The kinds a SyncMap key or value can have ('json' and 'v8' are value kinds only).
enum class SyncKind : uint8_t { kF64 = 0, kI64, kString, kBytes, kJson, kV8 };
constexpr int kSyncKindCount = 6;

inline const char* syncKindName(SyncKind k) {
  static const char* const kNames[kSyncKindCount] = {"f64", "i64", "string", "bytes", "json", "v8"};
  return kNames[static_cast<int>(k)];
}

// Per-call conversion space: a string reader and a word, so that no common read
// allocates.
struct SyncScratch {
  StringReader reader;
  uint8_t word[8];
};

inline Blob wordBlob(uint8_t tag, uint64_t bits, SyncScratch& s) {
  std::memcpy(s.word, &bits, sizeof bits);
  return Blob{tag, s.word, 8};
}

inline uint64_t blobWord(const Blob& b) {
  uint64_t bits = 0;
  if (b.len == 8) std::memcpy(&bits, b.data, sizeof bits);
  return bits;
}

// The readers of key_codec.h word their errors for GoMap ("GoMap key must be a string for
// key kind 'string', got number"). On the error path only, this re-throws the pending
// error with "SyncMap" in its place, same class (TypeError / RangeError) and same code.
// `owner`: the class named instead ("SyncMap", or "GoCache" for a shared cache).
bool rewordForSyncMap(napi_env env, const char* owner = "SyncMap");

// A key of kind `kind` as a blob (role "key") or a value (role "value").
inline bool readSyncBlobWorded(napi_env env, SyncKind kind, bool isKey, napi_value value, SyncScratch& s,
                               Blob* out) {
  const char* role = isKey ? "key" : "value";
  switch (kind) {
    case SyncKind::kF64: {
      double d;
      if (!readDouble(env, value, role, "f64", &d)) return false;
      *out = wordBlob(kTagNumber, isKey ? f64KeyBits(d) : f64Bits(d), s);
      return true;
    }
    case SyncKind::kI64: {
      int64_t v;
      if (!readInt64(env, value, role, "i64", &v)) return false;
      *out = wordBlob(kTagBigInt, static_cast<uint64_t>(v), s);
      return true;
    }
    case SyncKind::kString:
    case SyncKind::kJson:
      return readStringBlob(env, value, s.reader, out, role, syncKindName(kind));
    case SyncKind::kBytes:
    case SyncKind::kV8:
      return readBytesBlob(env, value, out, role, syncKindName(kind));
  }
  return false;
}

inline bool readSyncBlob(napi_env env, SyncKind kind, bool isKey, napi_value value, SyncScratch& s, Blob* out,
                         const char* owner = "SyncMap") {
  if (readSyncBlobWorded(env, kind, isKey, value, s, out)) return true;
  return rewordForSyncMap(env, owner);
}

// The JS value of a stored key or value of kind `kind` (nullptr with an exception
// pending when it cannot be made).
inline napi_value syncBlobToJs(napi_env env, SyncKind kind, const Blob& b) {
  switch (kind) {
    case SyncKind::kF64:
      return doubleToJs(env, bitsToF64(blobWord(b)));
    case SyncKind::kI64:
      return int64ToJs(env, static_cast<int64_t>(blobWord(b)));
    default:
      return blobToJs(env, b);  // strings and bytes by their tags
  }
}

}  // namespace gomap::addon
