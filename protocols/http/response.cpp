#include "protocols/http/response.hpp"

#include <charconv>

namespace manifold::http {

namespace {

constexpr std::string_view kBody1 = "<!DOCTYPE html>\n<html><head><title>";
constexpr std::string_view kBody2 = "</title></head>\n<body><h1>";
constexpr std::string_view kBody3 = "</h1></body></html>\n";

void appendNumber(std::string& out, uint64_t v, int base = 10) {
  char buf[20];
  auto res = std::to_chars(buf, buf + sizeof buf, v, base);
  out.append(buf, res.ptr);
}

// "404 Not Found" (or "599" with no text): the code is clamped to three digits.
void appendCodeAndText(std::string& out, int code) {
  if (code < 100 || code > 999) code = 500;
  appendNumber(out, static_cast<uint64_t>(code));
  std::string_view text = statusText(code);
  if (!text.empty()) {
    out.push_back(' ');
    out += text;
  }
}

}  // namespace

std::string_view statusText(int code) {
  // clang-format off
  switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return {};
  }
  // clang-format on
}

void appendStatusLine(std::string& out, int versionMinor, int code) {
  out += versionMinor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  if (code < 100 || code > 999) code = 500;
  appendNumber(out, static_cast<uint64_t>(code));
  out.push_back(' ');  // required even when the reason phrase is empty
  out += statusText(code);
  out += "\r\n";
}

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  size_t at = out.size();
  out += value;
  for (size_t i = at; i < out.size(); ++i)
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  out += "\r\n";
}

void appendHeader(std::string& out, std::string_view name, uint64_t value) {
  out += name;
  out += ": ";
  appendNumber(out, value);
  out += "\r\n";
}

void appendEndOfHeaders(std::string& out) { out += "\r\n"; }

size_t errorBodyLength(int code) {
  if (code < 100 || code > 999) code = 500;
  std::string_view text = statusText(code);
  size_t title = 3 + (text.empty() ? 0 : 1 + text.size());
  return kBody1.size() + title + kBody2.size() + title + kBody3.size();
}

void appendErrorResponse(std::string& out, int versionMinor, int code, std::string_view date,
                         std::string_view serverName, bool keepAlive, bool headOnly,
                         std::string_view extraHeaders) {
  if (code < 100 || code > 999) code = 500;
  appendStatusLine(out, versionMinor, code);
  if (!serverName.empty()) appendHeader(out, "Server", serverName);
  if (!date.empty()) appendHeader(out, "Date", date);
  const bool body = !statusHasNoBody(code);
  if (body) {
    out += "Content-Type: text/html\r\n";
    appendHeader(out, "Content-Length", static_cast<uint64_t>(errorBodyLength(code)));
  }
  if (!keepAlive) {
    out += "Connection: close\r\n";
  } else if (versionMinor == 0) {
    out += "Connection: keep-alive\r\n";
  }
  out += extraHeaders;
  out += "\r\n";
  if (!body || headOnly) return;
  out += kBody1;
  appendCodeAndText(out, code);
  out += kBody2;
  appendCodeAndText(out, code);
  out += kBody3;
}

void appendChunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  appendNumber(out, data.size(), 16);
  out += "\r\n";
  out += data;
  out += "\r\n";
}

void appendChunkHeader(std::string& out, uint64_t size) {
  appendNumber(out, size, 16);
  out += "\r\n";
}

void appendLastChunk(std::string& out) { out += "0\r\n\r\n"; }

}  // namespace manifold::http
