// bin/manifold-seal: encrypts and decrypts files in the age v1 format for X25519 recipients
// (protocols/static/age_seal.hpp); interoperates with age and age-keygen both ways.
//
//   manifold-seal keygen [-o FILE]                   new identity (age-keygen's file format)
//   manifold-seal recipient [FILE]                   the recipient of an identity file
//   manifold-seal seal -r RECIPIENT... [-o OUT] [IN] encrypt (stdin/stdout by default)
//   manifold-seal open -i FILE... [-o OUT] [IN]      decrypt with identities from FILE
//
// `open` writes plaintext only once it has been authenticated chunk by chunk; on a bad chunk it
// stops with an error and exits 1. OUT is written under a hidden name beside it and renamed
// into place when complete, so a failed run leaves no partial OUT (age would keep a prefix).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "protocols/static/age_seal.hpp"

using namespace manifold;

namespace {

constexpr const char* kUsage =
    "usage: manifold-seal keygen [-o FILE]\n"
    "       manifold-seal recipient [FILE]\n"
    "       manifold-seal seal -r RECIPIENT [-r ...] [-o OUT] [IN]\n"
    "       manifold-seal open -i IDENTITY_FILE [-i ...] [-o OUT] [IN]\n";

// The hidden file OUT is written to until it is complete; removed when the run fails.
std::string partialOutput;

[[noreturn]] void die(const std::string& why) {
  fprintf(stderr, "manifold-seal: %s\n", why.c_str());
  if (!partialOutput.empty()) ::unlink(partialOutput.c_str());
  exit(1);
}

bool readAll(int fd, std::string& out) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, n);
  }
}

std::string readFileOrDie(const std::string& path) {
  int fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::string out;
  if (fd < 0 || !readAll(fd, out)) die(path + ": " + strerror(errno));
  if (fd != 0) ::close(fd);
  return out;
}

void writeAll(int fd, std::string& data) {
  std::string_view rest = data;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die(std::string("write: ") + strerror(errno));
    rest.remove_prefix(n);
  }
  data.clear();
}

int openOutput(const std::string& path, int mode) {
  if (path.empty() || path == "-") return 1;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {  // /dev/null, a fifo: as is
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) die(path + ": " + strerror(errno));
    return fd;
  }
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  partialOutput = dir + "." + base + ".partial-" + std::to_string(getpid());
  int fd = ::open(partialOutput.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    partialOutput.clear();
    die(path + ": " + strerror(errno));
  }
  return fd;
}

// Makes a complete output visible under its name.
void finishOutput(int fd, const std::string& path) {
  if (fd == 1) return;
  if (partialOutput.empty()) {
    if (::close(fd) != 0) die(path + ": " + strerror(errno));
    return;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) die(path + ": " + strerror(errno));
  if (::rename(partialOutput.c_str(), path.c_str()) != 0) die(path + ": " + strerror(errno));
  partialOutput.clear();
}

int openInput(const std::string& path) {
  if (path.empty() || path == "-") return 0;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(path + ": " + strerror(errno));
  return fd;
}

// Feeds the input to `step` in pieces, writing what it produces as it goes.
template <typename Step>
void pump(int in, int out, Step step) {
  std::string buf(1 << 16, '\0'), produced;
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(std::string("read: ") + strerror(errno));
    step(std::string_view(buf.data(), n), n == 0, produced);
    writeAll(out, produced);
    if (n == 0) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fputs(kUsage, stderr);
    return 2;
  }
  std::string command = argv[1];
  std::vector<std::string> recipients, identities, args;
  std::string output;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "-r") {
      recipients.push_back(value());
    } else if (a == "-i") {
      identities.push_back(value());
    } else if (a == "-o") {
      output = value();
    } else if (a.size() > 1 && a[0] == '-') {
      die("unknown option " + a);
    } else {
      args.push_back(a);
    }
  }
  if (args.size() > 1) die("one input at most");
  std::string input = args.empty() ? "" : args[0];

  if (command == "keygen") {
    age::Key32 secret = age::generateSecretKey();
    char created[32];
    time_t now = time(nullptr);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    std::string recipient = age::formatRecipient(age::publicKeyOf(secret));
    std::string text = std::string("# created: ") + created + "\n# public key: " + recipient +
                       "\n" + age::formatIdentity(secret) + "\n";
    int fd = openOutput(output, 0600);
    writeAll(fd, text);
    finishOutput(fd, output);
    if (fd != 1) fprintf(stderr, "Public key: %s\n", recipient.c_str());
    return 0;
  }
  if (command == "recipient") {
    std::vector<age::Key32> keys;
    if (!age::parseIdentityFile(readFileOrDie(input.empty() ? "-" : input), keys))
      die("no valid identity (AGE-SECRET-KEY-1...) in " + (input.empty() ? "stdin" : input));
    for (const age::Key32& k : keys)
      printf("%s\n", age::formatRecipient(age::publicKeyOf(k)).c_str());
    return 0;
  }
  if (command == "seal") {
    if (recipients.empty()) die("seal needs -r RECIPIENT");
    std::vector<age::Key32> keys;
    for (const std::string& r : recipients) {
      age::Key32 k;
      if (!age::parseRecipient(r, k)) die("not an age X25519 recipient: " + r);
      keys.push_back(k);
    }
    age::Sealer sealer(keys);
    int in = openInput(input), out = openOutput(output, 0644);
    pump(in, out, [&](std::string_view piece, bool end, std::string& produced) {
      if (end) {
        sealer.finish(produced);
      } else {
        sealer.update(piece, produced);
      }
    });
    finishOutput(out, output);
    return 0;
  }
  if (command == "open") {
    if (identities.empty()) die("open needs -i IDENTITY_FILE");
    std::vector<age::Key32> keys;
    for (const std::string& f : identities)
      if (!age::parseIdentityFile(readFileOrDie(f), keys)) die("no valid identity in " + f);
    age::Opener opener(keys);
    int in = openInput(input), out = openOutput(output, 0644);
    pump(in, out, [&](std::string_view piece, bool end, std::string& produced) {
      bool ok = end ? opener.finish(produced) : opener.update(piece, produced);
      if (!ok) {
        writeAll(out, produced);
        die(opener.why());
      }
    });
    finishOutput(out, output);
    return 0;
  }
  fputs(kUsage, stderr);
  return 2;
}
