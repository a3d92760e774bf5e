// An info board: a region of rows that one writer publishes and any reader renders without
// knowing who wrote them (manifold-shm, the metrics endpoint). A row is a set of labels
// ("host=a.example", "path=/srv/sites/a.example.site") and a fixed list of named 64-bit values
// (gauges or counters) declared when the board is formatted. The site packs of a `sites`
// section use one ("http_pack": build time, files, swaps, refused per host).
//
// Layout (offsets from the region base; all fields written by the formatter or the writer):
//   +0    RegionHeader  magic "MFINFOB1", version 1
//   +12   u32 rows, u32 values
//   +20   char family[44]          metric family, e.g. "http_pack" (NUL-terminated)
//   +64   char names[8][32]        value names; kinds[8] at +320 ('g' gauge, 'c' counter)
//   +384  rows x kRowBytes:        u64 seq (seqlock: odd while written), u32 used, u32 0,
//                                  char labels[kLabelBytes] ("k=v\tk=v"), u64 values[8]
// One writer at a time (the service's instance-task worker); readers copy a row and retry while
// its seq is odd or changed under them, so they never see half a row and never block it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shm/region_header.hpp"

namespace manifold::shm {

class InfoBoard {
 public:
  static constexpr MagicText kMagic = "MFINFOB1";
  static constexpr uint32_t kVersion = 1;
  static constexpr unsigned kMaxValues = 8;
  static constexpr size_t kLabelBytes = 432;
  static constexpr size_t kRowBytes = 16 + kLabelBytes + 8 * kMaxValues;  // 512
  static constexpr size_t kHeaderBytes = 384;

  struct Value {
    std::string_view name;
    bool gauge;
  };
  struct Row {
    std::vector<std::pair<std::string, std::string>> labels;
    std::vector<uint64_t> values;
  };

  static size_t bytesFor(unsigned rows) { return kHeaderBytes + rows * kRowBytes; }
  // Formats a board of `rows` rows (kept when `adopted` and already this shape, as after a
  // reload with the same config, so the counts carry on).
  static void format(void* base, size_t bytes, bool adopted, std::string_view family,
                     const std::vector<Value>& values);
  // The board at `base`, or nullptr when the bytes there are not a board that fits `bytes`.
  static InfoBoard* at(void* base, size_t bytes);
  static const InfoBoard* at(const void* base, size_t bytes);

  unsigned rows() const { return rows_; }
  unsigned valueCount() const { return values_; }
  std::string_view family() const;
  std::string_view valueName(unsigned i) const;
  bool valueGauge(unsigned i) const { return kinds_[i] == 'g'; }

  // Writer. Labels are "key=value" pairs; tabs and newlines in values become spaces; labels
  // longer than kLabelBytes are cut.
  void set(unsigned row, const std::vector<std::pair<std::string, std::string>>& labels,
           const std::vector<uint64_t>& values);
  void clear(unsigned row);
  // Reader: the rows in use, each read consistently.
  std::vector<Row> read() const;

 private:
  RegionHeader header_;
  uint32_t rows_;
  uint32_t values_;
  char family_[44];
  char names_[kMaxValues][32];
  char kinds_[kMaxValues];
  char pad_[kHeaderBytes - 320 - kMaxValues];
  char* row(unsigned i) { return reinterpret_cast<char*>(this) + kHeaderBytes + i * kRowBytes; }
  const char* row(unsigned i) const {
    return reinterpret_cast<const char*>(this) + kHeaderBytes + i * kRowBytes;
  }
};
static_assert(sizeof(InfoBoard) == InfoBoard::kHeaderBytes);

}  // namespace manifold::shm
