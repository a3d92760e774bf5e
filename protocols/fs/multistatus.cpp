#include "protocols/fs/multistatus.hpp"

#include <unordered_set>
#include <vector>

#include "protocols/http/date.hpp"

namespace manifold::fs {

namespace {

struct Document {
  std::string_view prologue;  // up to the first response (or the end tag)
  std::string_view epilogue;  // from the multistatus end tag
  std::string prefix;         // "D:" or ""
  std::string_view body;
  size_t responsesAt = 0;   // where the responses start
  size_t responsesEnd = 0;  // where the multistatus end tag starts
};

bool isNameEnd(char c) {
  return c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/';
}

// The prefix ("D:" or "") of the first start tag named `local` (any prefix), and its position.
bool findStartTag(std::string_view s, std::string_view local, size_t from, size_t& at,
                  std::string& prefix) {
  for (size_t i = s.find('<', from); i != std::string_view::npos; i = s.find('<', i + 1)) {
    size_t nameStart = i + 1;
    if (nameStart >= s.size() || s[nameStart] == '/' || s[nameStart] == '?' || s[nameStart] == '!')
      continue;
    size_t nameEnd = nameStart;
    while (nameEnd < s.size() && !isNameEnd(s[nameEnd])) ++nameEnd;
    std::string_view name = s.substr(nameStart, nameEnd - nameStart);
    size_t colon = name.find(':');
    std::string_view localName = colon == std::string_view::npos ? name : name.substr(colon + 1);
    if (localName == local && nameEnd < s.size()) {
      at = i;
      prefix =
          colon == std::string_view::npos ? std::string() : std::string(name.substr(0, colon + 1));
      return true;
    }
  }
  return false;
}

bool readDocument(std::string_view body, Document& d) {
  size_t at = 0;
  if (!findStartTag(body, "multistatus", 0, at, d.prefix)) return false;
  size_t open = body.find('>', at);
  if (open == std::string_view::npos) return false;
  std::string endTag = "</" + d.prefix + "multistatus>";
  size_t end = body.rfind(endTag);
  if (end == std::string_view::npos || end < open) return false;
  d.body = body;
  d.responsesAt = open + 1;
  d.responsesEnd = end;
  d.prologue = body.substr(0, open + 1);
  d.epilogue = body.substr(end);
  return true;
}

// Calls fn(element, href) for each response element of the document.
template <class Fn>
void forEachResponse(const Document& d, Fn&& fn) {
  const std::string open = "<" + d.prefix + "response", close = "</" + d.prefix + "response>";
  const std::string hrefOpen = "<" + d.prefix + "href>", hrefClose = "</" + d.prefix + "href>";
  std::string_view s = d.body.substr(0, d.responsesEnd);
  size_t pos = d.responsesAt;
  while (true) {
    size_t start = s.find(open, pos);
    if (start == std::string_view::npos || start + open.size() >= s.size() ||
        !isNameEnd(s[start + open.size()]))
      return;
    size_t end = s.find(close, start);
    if (end == std::string_view::npos) return;
    end += close.size();
    std::string_view element = s.substr(start, end - start);
    size_t h = element.find(hrefOpen);
    size_t he = h == std::string_view::npos ? h : element.find(hrefClose, h);
    std::string_view href = he == std::string_view::npos
                                ? std::string_view()
                                : element.substr(h + hrefOpen.size(), he - h - hrefOpen.size());
    fn(element, href);
    pos = end;
  }
}

// The text of the first <P:name>...</P:name> in `element` ("" when absent).
std::string_view elementText(std::string_view element, const std::string& prefix,
                             std::string_view name) {
  std::string open = "<" + prefix + std::string(name);
  for (size_t at = element.find(open); at != std::string_view::npos;
       at = element.find(open, at + 1)) {
    size_t end = at + open.size();
    if (end >= element.size() || !isNameEnd(element[end])) continue;
    size_t gt = element.find('>', end);
    if (gt == std::string_view::npos || element[gt - 1] == '/') return {};
    size_t close = element.find("</" + prefix + std::string(name) + ">", gt);
    if (close == std::string_view::npos) return {};
    return element.substr(gt + 1, close - gt - 1);
  }
  return {};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool parseListing(std::string_view body, std::vector<ListingEntry>& out) {
  out.clear();
  Document d;
  if (!readDocument(body, d)) return false;
  forEachResponse(d, [&](std::string_view element, std::string_view href) {
    href = trim(href);
    if (size_t scheme = href.find("://"); scheme != std::string_view::npos) {
      size_t slash = href.find('/', scheme + 3);
      if (slash == std::string_view::npos) return;  // a server's root: not a store path
      href = href.substr(slash);
    }
    if (href.empty() || href[0] != '/') return;
    // The path goes back into request lines to other nodes: nothing that could end or split one.
    for (char c : href)
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return;
    ListingEntry e;
    e.path = href;
    std::string_view type = elementText(element, d.prefix, "resourcetype");
    e.collection = type.find("collection") != std::string_view::npos;
    std::string_view length = trim(elementText(element, d.prefix, "getcontentlength"));
    if (!length.empty() && length.size() <= 18) {
      int64_t n = 0;
      bool digits = true;
      for (char c : length) {
        digits = digits && c >= '0' && c <= '9';
        n = n * 10 + (c - '0');
      }
      if (digits) e.size = n;
    }
    time_t t = 0;
    if (http::parseHttpDate(trim(elementText(element, d.prefix, "getlastmodified")), t))
      e.mtime = t;
    out.push_back(e);
  });
  return true;
}

bool mergeMultistatus(std::span<const std::string_view> bodies, std::string& out) {
  const Document* first = nullptr;
  std::vector<Document> docs;
  docs.reserve(bodies.size());
  for (std::string_view b : bodies) {
    Document d;
    if (readDocument(b, d)) docs.push_back(std::move(d));
  }
  if (docs.empty()) return false;
  first = &docs[0];
  std::string merged(first->prologue);
  merged.push_back('\n');
  std::unordered_set<std::string_view> seen;
  for (const Document& d : docs) {
    if (d.prefix != first->prefix) continue;
    forEachResponse(d, [&](std::string_view element, std::string_view href) {
      if (!href.empty() && !seen.insert(href).second) return;  // the same file on another node
      merged.append(element).push_back('\n');
    });
  }
  merged.append(first->epilogue);
  out = std::move(merged);
  return true;
}

}  // namespace manifold::fs
