#include "shm/info_board.hpp"

#include <algorithm>
#include <cstring>

namespace manifold::shm {

namespace {

uint64_t* seqOf(char* row) { return reinterpret_cast<uint64_t*>(row); }
const uint64_t* seqOf(const char* row) { return reinterpret_cast<const uint64_t*>(row); }

void copyText(char* out, size_t room, std::string_view text) {
  size_t n = std::min(text.size(), room - 1);
  memcpy(out, text.data(), n);
  out[n] = '\0';
}

}  // namespace

void InfoBoard::format(void* base, size_t bytes, bool adopted, std::string_view family,
                       const std::vector<Value>& values) {
  unsigned rows =
      bytes < kHeaderBytes ? 0 : static_cast<unsigned>((bytes - kHeaderBytes) / kRowBytes);
  auto* b = static_cast<InfoBoard*>(base);
  if (adopted && b->header_.matches(kMagic, kVersion) && b->rows_ == rows &&
      b->values_ == values.size() && b->family() == family)
    return;
  memset(base, 0, bytes);
  b->rows_ = rows;
  b->values_ = static_cast<uint32_t>(std::min<size_t>(values.size(), kMaxValues));
  copyText(b->family_, sizeof b->family_, family);
  for (unsigned i = 0; i < b->values_; ++i) {
    copyText(b->names_[i], sizeof b->names_[i], values[i].name);
    b->kinds_[i] = values[i].gauge ? 'g' : 'c';
  }
  b->header_.stamp(kMagic, kVersion);
}

InfoBoard* InfoBoard::at(void* base, size_t bytes) {
  return const_cast<InfoBoard*>(at(static_cast<const void*>(base), bytes));
}

const InfoBoard* InfoBoard::at(const void* base, size_t bytes) {
  if (bytes < kHeaderBytes) return nullptr;
  const auto* b = static_cast<const InfoBoard*>(base);
  if (!b->header_.matches(kMagic, kVersion) || b->values_ > kMaxValues ||
      bytesFor(b->rows_) > bytes)
    return nullptr;
  return b;
}

std::string_view InfoBoard::family() const {
  return std::string_view(family_, strnlen(family_, sizeof family_));
}

std::string_view InfoBoard::valueName(unsigned i) const {
  return std::string_view(names_[i], strnlen(names_[i], sizeof names_[i]));
}

void InfoBoard::set(unsigned i, const std::vector<std::pair<std::string, std::string>>& labels,
                    const std::vector<uint64_t>& values) {
  if (i >= rows_) return;
  char* r = row(i);
  uint64_t seq = __atomic_load_n(seqOf(r), __ATOMIC_RELAXED);
  __atomic_store_n(seqOf(r), seq + 1, __ATOMIC_RELAXED);  // odd: being written
  __atomic_thread_fence(__ATOMIC_RELEASE);
  std::string text;
  for (const auto& [key, value] : labels) {
    if (!text.empty()) text.push_back('\t');
    text.append(key).push_back('=');
    for (char c : value) text.push_back(c == '\t' || c == '\n' ? ' ' : c);
  }
  *reinterpret_cast<uint32_t*>(r + 8) = 1;
  copyText(r + 16, kLabelBytes, text);
  auto* v = reinterpret_cast<uint64_t*>(r + 16 + kLabelBytes);
  for (unsigned k = 0; k < values_; ++k)
    __atomic_store_n(&v[k], k < values.size() ? values[k] : 0, __ATOMIC_RELAXED);
  __atomic_store_n(seqOf(r), seq + 2, __ATOMIC_RELEASE);
}

void InfoBoard::clear(unsigned i) {
  if (i >= rows_) return;
  char* r = row(i);
  uint64_t seq = __atomic_load_n(seqOf(r), __ATOMIC_RELAXED);
  __atomic_store_n(seqOf(r), seq + 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  *reinterpret_cast<uint32_t*>(r + 8) = 0;
  __atomic_store_n(seqOf(r), seq + 2, __ATOMIC_RELEASE);
}

std::vector<InfoBoard::Row> InfoBoard::read() const {
  std::vector<Row> out;
  char labels[kLabelBytes];
  uint64_t values[kMaxValues];
  for (unsigned i = 0; i < rows_; ++i) {
    const char* r = row(i);
    bool used = false;
    for (int attempt = 0; attempt < 100; ++attempt) {
      uint64_t before = __atomic_load_n(seqOf(r), __ATOMIC_ACQUIRE);
      if (before & 1) continue;
      used = *reinterpret_cast<const volatile uint32_t*>(r + 8) != 0;
      memcpy(labels, r + 16, kLabelBytes);
      const auto* v = reinterpret_cast<const uint64_t*>(r + 16 + kLabelBytes);
      for (unsigned k = 0; k < values_; ++k) values[k] = __atomic_load_n(&v[k], __ATOMIC_RELAXED);
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      if (__atomic_load_n(seqOf(r), __ATOMIC_RELAXED) == before) break;
      used = false;
    }
    if (!used) continue;
    labels[kLabelBytes - 1] = '\0';
    Row row;
    std::string_view text(labels, strlen(labels));
    while (!text.empty()) {
      size_t tab = text.find('\t');
      std::string_view pair = text.substr(0, tab);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos)
        row.labels.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
      text = tab == std::string_view::npos ? std::string_view() : text.substr(tab + 1);
    }
    row.values.assign(values, values + values_);
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace manifold::shm
