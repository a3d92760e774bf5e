// bin/manifold-pack: builds, lists and verifies site packs (protocols/static/pack_format.hpp).
//
//   manifold-pack [options] DIR OUT.site   pack the tree under DIR into OUT.site
//   manifold-pack --list PACK              print the header and one line per entry
//   manifold-pack --verify PACK            check the pack and every body's hash
//
// Options: --index NAME (repeatable; default index.html), --mime-types FILE (default
// /etc/mime.types on top of the server's built-in table), --gzip-level N (1-9, default 9),
// --gzip-min-length BYTES (default 256), --seal RECIPIENT (repeatable: bodies sealed with age
// for these recipients, no gzip forms), -q (no progress).
// OUT is written beside itself under a hidden temporary name and renamed into place, so a pack
// built straight into a watched `sites` directory replaces the old one atomically.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "protocols/http/date.hpp"
#include "protocols/http/gzip.hpp"
#include "protocols/static/age_seal.hpp"
#include "protocols/static/mime.hpp"
#include "protocols/static/pack.hpp"

using namespace manifold;

namespace {

constexpr const char* kUsage =
    "usage: manifold-pack [options] DIR OUT.site\n"
    "       manifold-pack --list PACK\n"
    "       manifold-pack --verify PACK\n"
    "options: --index NAME  --mime-types FILE  --gzip-level N  --gzip-min-length BYTES\n"
    "         --seal RECIPIENT  -q\n";

struct Options {
  std::vector<std::string> index;
  std::string mimeTypes = "/etc/mime.types";
  int gzipLevel = 9;
  uint64_t gzipMinLength = 256;
  std::vector<age::Key32> recipients;
  bool quiet = false;
};

struct Source {
  std::string path;      // "/a/b.html" or "/a" for a directory
  std::string fullPath;  // on disk
  bool directory = false;
  int64_t mtime = 0;
};

[[noreturn]] void die(const std::string& why) {
  fprintf(stderr, "manifold-pack: %s\n", why.c_str());
  exit(1);
}

bool readWhole(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) out.append(buf, n);
  int saved = errno;
  ::close(fd);
  errno = saved;
  return n == 0;
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(n);
  }
  return true;
}

// Walks `dir` in name order (deterministic); follows symlinks, skips what is neither a file
// nor a directory.
void walk(const std::string& dir, const std::string& prefix, std::vector<Source>& out) {
  DIR* d = opendir(dir.c_str());
  if (!d) die(dir + ": " + strerror(errno));
  std::vector<std::string> names;
  while (dirent* e = readdir(d))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names.push_back(e->d_name);
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string full = dir + "/" + name;
    struct stat st;
    if (stat(full.c_str(), &st) != 0) die(full + ": " + strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      out.push_back({prefix + name, full, true, st.st_mtim.tv_sec});
      walk(full, prefix + name + "/", out);
    } else if (S_ISREG(st.st_mode)) {
      out.push_back({prefix + name, full, false, st.st_mtim.tv_sec});
    }
  }
}

class Progress {
 public:
  Progress(size_t total, bool quiet) : total_(total), show_(!quiet && isatty(2) && total >= 200) {}
  void step(size_t done) {
    if (!show_ || (done != total_ && done % 100 != 0)) return;
    fprintf(stderr, "\rpacking: %zu/%zu files", done, total_);
    if (done == total_) fputc('\n', stderr);
  }

 private:
  size_t total_;
  bool show_;
};

int build(const std::string& dir, const std::string& outPath, const Options& opt) {
  http::MimeTable mime;
  mime.loadDefaults();
  if (!opt.mimeTypes.empty() && access(opt.mimeTypes.c_str(), R_OK) == 0)
    mime.loadFile(opt.mimeTypes);
  std::vector<Source> sources;
  sources.push_back({"", dir, true, 0});
  struct stat rootSt;
  if (stat(dir.c_str(), &rootSt) != 0 || !S_ISDIR(rootSt.st_mode)) die(dir + ": not a directory");
  sources[0].mtime = rootSt.st_mtim.tv_sec;
  walk(dir, "/", sources);

  // Entries: "/dir" (redirect) and "/dir/" (index alias or 403) for each directory (the root is
  // "/" only), the files, sorted by path.
  std::vector<pack::BuildEntry> entries;
  std::vector<std::string> bodies;  // kept only when they differ from the file (sealed)
  std::vector<std::string> gzips;
  std::vector<int> sourceOf;
  int64_t newest = 0;
  size_t fileTotal = 0;
  for (const Source& s : sources) fileTotal += !s.directory;
  Progress progress(fileTotal, opt.quiet);
  size_t done = 0;
  std::string content;
  for (size_t i = 0; i < sources.size(); ++i) {
    const Source& s = sources[i];
    newest = std::max(newest, s.mtime);
    if (s.directory) {
      if (!s.path.empty()) {
        pack::BuildEntry r;
        r.path = s.path;
        r.kind = pack::Kind::Redirect;
        r.mtime = s.mtime;
        entries.push_back(r);
        sourceOf.push_back(-1);
      }
      pack::BuildEntry d;
      d.path = s.path + "/";
      d.kind = pack::Kind::Directory;  // becomes an index alias below when one exists
      d.mtime = s.mtime;
      entries.push_back(d);
      sourceOf.push_back(-1);
      continue;
    }
    if (!readWhole(s.fullPath, content)) die(s.fullPath + ": " + strerror(errno));
    pack::BuildEntry f;
    f.path = s.path;
    f.mtime = s.mtime;
    std::string_view type = mime.lookup(s.path);
    f.type = std::string(type);
    std::string body;
    if (!opt.recipients.empty()) {
      body = age::seal(content, opt.recipients);
      f.type = "application/octet-stream";
    } else if (http::isCompressible(type) && content.size() >= opt.gzipMinLength) {
      std::string gz;
      if (!http::gzipCompress(content, gz, opt.gzipLevel)) die(s.fullPath + ": gzip failed");
      if (gz.size() < content.size()) {
        f.hasGzip = true;
        f.gzipLength = gz.size();
        pack::hashBytes(gz, f.gzipHash);
        gzips.resize(entries.size() + 1);
        gzips[entries.size()] = std::move(gz);
      }
    }
    std::string_view stored = opt.recipients.empty() ? std::string_view(content) : body;
    f.bodyLength = stored.size();
    pack::hashBytes(stored, f.bodyHash);
    if (!opt.recipients.empty()) {
      bodies.resize(entries.size() + 1);
      bodies[entries.size()] = std::move(body);
    }
    entries.push_back(f);
    sourceOf.push_back(static_cast<int>(i));
    progress.step(++done);
  }
  // Sort by path, keeping what belongs to each entry with it.
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return entries[a].path < entries[b].path; });
  std::vector<pack::BuildEntry> sorted;
  std::vector<size_t> original;
  for (size_t i : order) {
    sorted.push_back(entries[i]);
    original.push_back(i);
  }
  // Directories with an index file: "/dir/" repeats the first index that exists.
  for (auto& e : sorted) {
    if (e.kind != pack::Kind::Directory) continue;
    for (const std::string& name : opt.index) {
      std::string target = e.path + name;
      auto it = std::lower_bound(
          sorted.begin(), sorted.end(), target,
          [](const pack::BuildEntry& x, const std::string& p) { return x.path < p; });
      if (it != sorted.end() && it->path == target && it->kind == pack::Kind::File) {
        e.kind = pack::Kind::File;
        e.aliasOf = static_cast<int>(it - sorted.begin());
        break;
      }
    }
  }
  int64_t buildTime = newest;
  if (const char* epoch = getenv("SOURCE_DATE_EPOCH")) buildTime = strtoll(epoch, nullptr, 10);
  uint64_t fileSize = 0;
  std::string meta =
      pack::layout(sorted, buildTime, opt.recipients.empty() ? 0 : pack::kFlagSealed, fileSize);

  // Written beside OUT under a hidden name (a watching server ignores dot files), then renamed.
  size_t slash = outPath.rfind('/');
  std::string outDir = slash == std::string::npos ? "." : outPath.substr(0, slash);
  std::string base = slash == std::string::npos ? outPath : outPath.substr(slash + 1);
  std::string temp = outDir + "/." + base + ".tmp" + std::to_string(getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die(temp + ": " + strerror(errno));
  bool ok = writeAll(fd, meta);
  uint64_t at = meta.size();
  auto pad = [&](uint64_t to) {
    std::string zeros(to - at, '\0');
    at = to;
    return writeAll(fd, zeros);
  };
  for (size_t i = 0; ok && i < sorted.size(); ++i) {
    const pack::BuildEntry& e = sorted[i];
    if (e.kind != pack::Kind::File || e.aliasOf >= 0) continue;
    size_t from = original[i];
    std::string_view body;
    if (!opt.recipients.empty()) {
      body = bodies[from];
    } else {
      if (!readWhole(sources[sourceOf[from]].fullPath, content) || content.size() != e.bodyLength)
        die(sources[sourceOf[from]].fullPath + ": changed while packing");
      body = content;
    }
    ok = pad(e.bodyOffset) && writeAll(fd, body);
    at += body.size();
    if (ok && e.hasGzip) {
      ok = pad(e.gzipOffset) && writeAll(fd, gzips[from]);
      at += gzips[from].size();
    }
  }
  if (ok) ok = pad(fileSize);
  if (!ok || fsync(fd) != 0 || ::close(fd) != 0) {
    unlink(temp.c_str());
    die(temp + ": " + strerror(errno));
  }
  if (rename(temp.c_str(), outPath.c_str()) != 0) {
    unlink(temp.c_str());
    die(outPath + ": " + strerror(errno));
  }
  if (!opt.quiet)
    fprintf(stderr, "%s: %zu files, %zu entries, %llu bytes\n", outPath.c_str(), fileTotal,
            sorted.size(), static_cast<unsigned long long>(fileSize));
  return 0;
}

std::shared_ptr<pack::Pack> openOrDie(const std::string& path) {
  std::string why;
  auto p = pack::Pack::open(path, pack::Pack::Load::Map, 0, why);
  if (!p) die(path + ": " + why);
  return p;
}

const char* kindName(pack::Kind k) {
  switch (k) {
    case pack::Kind::File:
      return "file";
    case pack::Kind::Redirect:
      return "redirect";
    default:
      return "dir";
  }
}

int list(const std::string& path) {
  auto p = openOrDie(path);
  const pack::View& v = p->view();
  char date[30] = {};
  http::formatHttpDate(v.buildTime(), date);
  printf("pack %s: version %u, built %s, %u files, %u entries%s\n", path.c_str(), pack::kVersion,
         date, v.fileCount(), v.entryCount(), v.sealed() ? ", sealed" : "");
  for (uint32_t i = 0; i < v.entryCount(); ++i) {
    pack::Entry e = v.entry(i);
    char etag[35] = {};
    if (e.kind == pack::Kind::File) pack::formatEtag(e.bodyHash, etag);
    printf("%-8s %10llu %10s %s %-34s %-24s %.*s\n", kindName(e.kind),
           static_cast<unsigned long long>(e.bodyLength),
           e.hasGzip ? std::to_string(e.gzipLength).c_str() : "-", std::to_string(e.mtime).c_str(),
           e.kind == pack::Kind::File ? etag : "-",
           e.type.empty() ? "-" : std::string(e.type).c_str(), static_cast<int>(e.path.size()),
           e.path.data());
  }
  return 0;
}

int verify(const std::string& path) {
  auto p = openOrDie(path);
  std::string why;
  if (!p->view().verifyBodies(why)) die(path + ": " + why);
  printf("%s: OK, %u files, every hash checked\n", path.c_str(), p->view().fileCount());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::vector<std::string> args;
  std::string mode;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--list" || a == "--verify") {
      mode = a;
    } else if (a == "--index") {
      opt.index.push_back(value());
    } else if (a == "--mime-types") {
      opt.mimeTypes = value();
    } else if (a == "--gzip-level") {
      opt.gzipLevel = atoi(value().c_str());
      if (opt.gzipLevel < 1 || opt.gzipLevel > 9) die("--gzip-level: 1 to 9");
    } else if (a == "--gzip-min-length") {
      opt.gzipMinLength = strtoull(value().c_str(), nullptr, 10);
    } else if (a == "--seal") {
      age::Key32 key;
      std::string r = value();
      if (!age::parseRecipient(r, key)) die("--seal: not an age X25519 recipient: " + r);
      opt.recipients.push_back(key);
    } else if (a == "-q") {
      opt.quiet = true;
    } else if (a == "-h" || a == "--help") {
      fputs(kUsage, stdout);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      die("unknown option " + a + "\n" + kUsage);
    } else {
      args.push_back(a);
    }
  }
  if (opt.index.empty()) opt.index.push_back("index.html");
  if (mode == "--list" && args.size() == 1) return list(args[0]);
  if (mode == "--verify" && args.size() == 1) return verify(args[0]);
  if (mode.empty() && args.size() == 2) return build(args[0], args[1], opt);
  fputs(kUsage, stderr);
  return 2;
}
