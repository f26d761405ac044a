#include "component/wave.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>

#include "base/error.h"
#include "base/utf8.h"
#include "component/names.h"

namespace weft::component {

namespace {

// As wasm-wave: deeper values are rejected rather than risk the stack.
constexpr int kMaxDepth = 100;

bool is_keyword(std::string_view s) {
  for (std::string_view k : {"true", "false", "some", "none", "ok", "err", "inf", "nan"})
    if (s == k) return true;
  return false;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_label_char(char c) { return is_alpha(c) || is_digit(c) || c == '-'; }


// Decodes the code point at `s[i]` and advances `i`; a malformed sequence
// reads as U+FFFD so that printing never fails.
uint32_t next_code_point(std::string_view s, size_t& i) {
  uint8_t c = static_cast<uint8_t>(s[i]);
  size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
  if (len == 0 || s.size() - i < len ||
      !utf8::valid({reinterpret_cast<const uint8_t*>(s.data() + i), len})) {
    ++i;
    return 0xfffd;
  }
  uint32_t cp = len == 1 ? c : c & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3f);
  i += len;
  return cp;
}

bool is_scalar(uint32_t c) { return c <= 0x10ffff && (c < 0xd800 || c > 0xdfff); }

enum class Tok : uint8_t {
  End, LBrace, RBrace, LParen, RParen, LBracket, RBracket, Colon, Comma, Hash,
  Number, Label, Char, String,
};

struct Token {
  Tok kind = Tok::End;
  size_t begin = 0, end = 0;  // bytes of the text
  std::string str;            // String: the decoded contents
  uint32_t cp = 0;            // Char
};

const char* closer(Tok k) { return k == Tok::RBracket ? "]" : k == Tok::RBrace ? "}" : ")"; }

// Type names in messages: short WIT-like text, the bare kind when long.
std::string describe(const Type* t) {
  std::string s = to_string(t);
  return s.size() <= 60 ? s : to_string(t->kind);
}

int int_width(TypeKind k) {
  switch (k) {
    case TypeKind::S8: case TypeKind::U8: return 8;
    case TypeKind::S16: case TypeKind::U16: return 16;
    case TypeKind::S32: case TypeKind::U32: return 32;
    default: return 64;
  }
}
bool is_signed(TypeKind k) {
  return k == TypeKind::S8 || k == TypeKind::S16 || k == TypeKind::S32 || k == TypeKind::S64;
}

// Whether an option/result payload may be written bare: only if a bare
// `none`/`ok`/... could not also be read as the payload itself.
bool flattenable(const Type* t) { return t->kind != TypeKind::Option && t->kind != TypeKind::Result; }

// For a decimal that from_chars found out of range: whether it overflowed
// (else it underflowed), from where its first significant digit sits.
bool overflows(std::string_view s) {
  long exp = 0;
  size_t e = s.find_first_of("eE");
  if (e != std::string_view::npos) {
    size_t i = e + 1;
    bool neg = s[i] == '-';
    if (s[i] == '-' || s[i] == '+') ++i;
    for (; i < s.size(); ++i) exp = std::min(exp * 10 + (s[i] - '0'), 1L << 20);
    if (neg) exp = -exp;
  }
  std::string_view m = s.substr(0, e);
  if (m[0] == '-') m.remove_prefix(1);
  size_t dot = m.find('.');
  std::string_view whole = m.substr(0, dot);
  if (whole != "0") return static_cast<long>(whole.size()) - 1 + exp >= 0;
  size_t z = dot == std::string_view::npos ? std::string_view::npos : m.find_first_not_of('0', dot + 1);
  return z != std::string_view::npos && static_cast<long>(dot) - static_cast<long>(z) + exp >= 0;
}

template <class F>
double parse_float(std::string_view s) {
  F x{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec == std::errc::result_out_of_range) {
    x = overflows(s) ? std::numeric_limits<F>::infinity() : F(0);
    if (s[0] == '-') x = -x;
  }
  return x;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {
    if (!utf8::valid({reinterpret_cast<const uint8_t*>(text.data()), text.size()}))
      throw Error(ErrorKind::Usage, "WAVE text is not valid UTF-8");
  }

  Val value(const Type* t) {
    if (++depth_ > kMaxDepth) fail(peek().begin, "value nested too deeply");
    Val v = value_of(t);
    --depth_;
    return v;
  }

  void finish() {
    Token t = next();
    if (t.kind != Tok::End) fail(t.begin, "trailing characters after the value", "found " + found(t));
  }

  // The function name at the start of a call (not a WAVE token).
  std::string call_name() {
    skip_space();
    size_t start = pos_;
    while (pos_ < text_.size() && (is_label_char(text_[pos_]) || std::string_view(":/@.#[]+").find(text_[pos_]) !=
                                                                      std::string_view::npos))
      ++pos_;
    std::string name(text_.substr(start, pos_ - start));
    if (!valid_call_name(name)) {
      pos_ = start;
      fail(start, "expected a function name like f, [method]r.f or ns:pkg/iface#f",
           "found " + (name.empty() ? found(peek()) : "\"" + name + "\""));
    }
    return name;
  }

  std::vector<Val> args(const Type* func, const std::string& name) {
    expect(Tok::LParen, "\"(\" after the function name");
    const std::vector<Field>& params = func->fields;
    std::vector<Val> args;
    Token close = sequence(Tok::RParen, [&] {
      if (args.size() == params.size())
        fail(peek().begin, "too many arguments: " + name + " takes " + std::to_string(params.size()));
      args.push_back(value(params[args.size()].type));
    });
    for (size_t i = args.size(); i < params.size(); ++i) {
      const Type* t = params[i].type;
      if (t->kind != TypeKind::Option)
        fail(close.begin, "missing argument " + params[i].label + ": " + describe(t) + " of " + name);
      Val none;
      none.type = t;
      args.push_back(std::move(none));
    }
    return args;
  }

 private:
  [[noreturn]] void fail(size_t at, const std::string& what, const std::string& detail = {}) const {
    std::string msg = what + " at " + location(at);
    if (!detail.empty()) msg += ", " + detail;
    throw Error(ErrorKind::Usage, msg);
  }

  std::string location(size_t at) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else if ((static_cast<uint8_t>(text_[i]) & 0xc0) != 0x80) {
        ++col;
      }
    }
    if (text_.find('\n') == std::string_view::npos) return "column " + std::to_string(col);
    return "line " + std::to_string(line) + ", column " + std::to_string(col);
  }

  std::string found(const Token& t) const {
    if (t.kind == Tok::End) return "end of input";
    std::string_view s = text_.substr(t.begin, t.end - t.begin);
    size_t cut = std::min(s.find('\n'), size_t{40});
    while (cut < s.size() && (static_cast<uint8_t>(s[cut]) & 0xc0) == 0x80) --cut;
    std::string shown(s.substr(0, cut));
    if (cut < s.size()) shown += "...";
    if (t.kind == Tok::String) return "string " + shown;
    if (t.kind == Tok::Char) return "char " + shown;
    return "\"" + shown + "\"";
  }

  [[noreturn]] void expected(const Type* t, const Token& tok) const {
    std::string hint;
    if (tok.kind == Tok::Label && is_keyword(text(tok)) && has_case(t, text(tok)))
      hint = " (the case " + std::string(text(tok)) + " is written %" + std::string(text(tok)) + ")";
    fail(tok.begin, "expected " + describe(t), "found " + found(tok) + hint);
  }

  static bool has_case(const Type* t, std::string_view name) {
    if (t->kind == TypeKind::Variant)
      return std::any_of(t->fields.begin(), t->fields.end(), [&](const Field& f) { return f.label == name; });
    return t->kind == TypeKind::Enum && std::find(t->labels.begin(), t->labels.end(), name) != t->labels.end();
  }

  std::string_view text(const Token& t) const { return text_.substr(t.begin, t.end - t.begin); }
  // A label token's label, without the `%` that only escapes keywords.
  std::string_view label(const Token& t) const {
    std::string_view s = text(t);
    return s[0] == '%' ? s.substr(1) : s;
  }
  bool is(const Token& t, std::string_view keyword) const { return t.kind == Tok::Label && text(t) == keyword; }

  const Token& peek() {
    if (!peeked_) peeked_ = lex();
    return *peeked_;
  }
  Token next() {
    peek();
    Token t = std::move(*peeked_);
    peeked_.reset();
    return t;
  }
  Token expect(Tok kind, const char* what) {
    Token t = next();
    if (t.kind != kind) fail(t.begin, std::string("expected ") + what, "found " + found(t));
    return t;
  }

  // Comma-separated items up to `close`, a trailing comma allowed; returns
  // the closing token.
  template <class F>
  Token sequence(Tok close, F each) {
    if (peek().kind == close) return next();
    while (true) {
      each();
      Token sep = next();
      if (sep.kind == close) return sep;
      if (sep.kind != Tok::Comma)
        fail(sep.begin, std::string("expected \",\" or \"") + closer(close) + "\"", "found " + found(sep));
      if (peek().kind == close) return next();
    }
  }

  Val value_of(const Type* t) {
    Val v;
    v.type = t;
    switch (t->kind) {
      case TypeKind::Bool: {
        Token tok = next();
        if (!is(tok, "true") && !is(tok, "false")) expected(t, tok);
        v.bits = is(tok, "true");
        break;
      }
      case TypeKind::S8: case TypeKind::U8: case TypeKind::S16: case TypeKind::U16:
      case TypeKind::S32: case TypeKind::U32: case TypeKind::S64: case TypeKind::U64:
        v.bits = integer(t, t->kind, next());
        break;
      case TypeKind::F32:
      case TypeKind::F64: {
        Token tok = next();
        if (is(tok, "nan")) {
          v.f64 = std::numeric_limits<double>::quiet_NaN();
        } else if (is(tok, "inf") || (tok.kind == Tok::Number && text(tok) == "-inf")) {
          v.f64 = text(tok)[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        } else if (tok.kind == Tok::Number) {
          v.f64 = t->kind == TypeKind::F32 ? parse_float<float>(text(tok)) : parse_float<double>(text(tok));
        } else {
          expected(t, tok);
        }
        break;
      }
      case TypeKind::Char: {
        Token tok = next();
        if (tok.kind != Tok::Char) expected(t, tok);
        v.bits = tok.cp;
        break;
      }
      case TypeKind::String: {
        Token tok = next();
        if (tok.kind != Tok::String) expected(t, tok);
        v.str = std::move(tok.str);
        break;
      }
      case TypeKind::List: {
        Token open = next();
        if (open.kind != Tok::LBracket) expected(t, open);
        size_t n = 0;
        Token close = sequence(Tok::RBracket, [&] {
          Val e = value(t->a);
          if (holds_bytes(t)) {
            v.str += static_cast<char>(e.bits);
          } else {
            v.items.push_back(std::move(e));
          }
          ++n;
        });
        if (t->length && n != t->length)
          fail(close.begin, "expected " + std::to_string(t->length) + " elements for " + describe(t),
               "found " + std::to_string(n));
        break;
      }
      case TypeKind::Tuple: {
        Token open = next();
        if (open.kind != Tok::LParen) expected(t, open);
        Token close = sequence(Tok::RParen, [&] {
          if (v.items.size() == t->elems.size())
            fail(peek().begin, "too many elements for " + describe(t));
          v.items.push_back(value(t->elems[v.items.size()]));
        });
        if (v.items.size() != t->elems.size())
          fail(close.begin, "expected " + std::to_string(t->elems.size()) + " elements for " + describe(t),
               "found " + std::to_string(v.items.size()));
        break;
      }
      case TypeKind::Record: record(v); break;
      case TypeKind::Flags: flags(v); break;
      case TypeKind::Variant:
      case TypeKind::Enum: {
        Token tok = next();
        if (tok.kind != Tok::Label || is_keyword(text(tok))) expected(t, tok);
        std::string_view name = label(tok);
        bool variant = t->kind == TypeKind::Variant;
        size_t n = variant ? t->fields.size() : t->labels.size();
        size_t i = 0;
        while (i < n && (variant ? t->fields[i].label : t->labels[i]) != name) ++i;
        if (i == n) fail(tok.begin, "unknown case \"" + std::string(name) + "\" of " + describe(t));
        v.case_index = static_cast<uint32_t>(i);
        payload(v, name, variant ? t->fields[i].type : nullptr);
        break;
      }
      case TypeKind::Option: {
        const Token& tok = peek();
        if (is(tok, "none") || is(tok, "some")) {
          std::string name(text(tok));
          next();
          v.case_index = name == "some";
          payload(v, name, v.case_index ? t->a : nullptr);
        } else if (flattenable(t->a)) {
          v.case_index = 1;
          v.items.push_back(value(t->a));
        } else {
          expected(t, tok);
        }
        break;
      }
      case TypeKind::Result: {
        const Token& tok = peek();
        if (is(tok, "ok") || is(tok, "err")) {
          std::string name(text(tok));
          next();
          v.case_index = name == "err";
          payload(v, name, v.case_index ? t->b : t->a);
        } else if (t->a && flattenable(t->a)) {
          v.items.push_back(value(t->a));
        } else {
          expected(t, tok);
        }
        break;
      }
      case TypeKind::Own: case TypeKind::Borrow: case TypeKind::Stream: case TypeKind::Future:
      case TypeKind::ErrorContext: {
        Token hash = next();
        if (hash.kind != Tok::Hash)
          fail(hash.begin, "expected " + describe(t) + ", written #" + to_string(t->kind) +
                               "(<handle>) (a weft extension: WAVE has no handle values)",
               "found " + found(hash));
        Token kind = next();
        if (kind.kind != Tok::Label || text(kind) != to_string(t->kind))
          fail(kind.begin, std::string("expected \"") + to_string(t->kind) + "\" after \"#\"", "found " + found(kind));
        expect(Tok::LParen, "\"(\"");
        v.bits = integer(t, TypeKind::U32, next());
        expect(Tok::RParen, "\")\"");
        break;
      }
      case TypeKind::Map:
        fail(peek().begin, "map values have no WAVE encoding");
      default:
        throw Error(ErrorKind::Usage, std::string("WAVE: not a value type: ") + to_string(t->kind));
    }
    return v;
  }

  // The `(payload)` after a case label, present exactly when `type` is.
  void payload(Val& v, std::string_view name, const Type* type) {
    if (!type) {
      if (peek().kind == Tok::LParen) fail(peek().begin, "case \"" + std::string(name) + "\" has no payload");
      return;
    }
    Token open = next();
    if (open.kind != Tok::LParen)
      fail(open.begin, "case \"" + std::string(name) + "\" needs a payload, " + std::string(name) + "(<" +
                           describe(type) + ">)",
           "found " + found(open));
    v.items.push_back(value(type));
    expect(Tok::RParen, "\")\"");
  }

  // An integer of kind `k`, for a value of type `t` (a handle's index is a u32).
  uint64_t integer(const Type* t, TypeKind k, const Token& tok) const {
    std::string_view s = text(tok);
    if (tok.kind != Tok::Number || s == "-inf" || s.find_first_of(".eE") != std::string_view::npos)
      expected(t, tok);
    bool neg = s[0] == '-';
    uint64_t mag = 0;
    bool overflow = false;
    for (char c : s.substr(neg)) {
      uint64_t d = static_cast<uint64_t>(c - '0');
      overflow |= mag > (std::numeric_limits<uint64_t>::max() - d) / 10;
      mag = mag * 10 + d;
    }
    int w = int_width(k);
    uint64_t max = is_signed(k) ? (uint64_t{1} << (w - 1)) - (neg ? 0 : 1)
                   : neg              ? 0
                                      : std::numeric_limits<uint64_t>::max() >> (64 - w);
    if (overflow || mag > max)
      fail(tok.begin, "integer " + std::string(s) + " out of range for " + to_string(k));
    return neg ? uint64_t{0} - mag : mag;  // signed values sign-extended, as Val keeps them
  }

  void record(Val& v) {
    const Type* t = v.type;
    Token open = next();
    if (open.kind != Tok::LBrace) expected(t, open);
    std::vector<std::optional<Val>> got(t->fields.size());
    if (peek().kind == Tok::Colon) {  // `{:}`: every field left out
      next();
      expect(Tok::RBrace, "\"}\"");
    } else {
      if (peek().kind == Tok::RBrace)
        fail(peek().begin, "expected a field of " + describe(t), "found \"}\" (write {:} when every field is left out)");
      sequence(Tok::RBrace, [&] {
        Token name = next();
        if (name.kind != Tok::Label) fail(name.begin, "expected a field of " + describe(t), "found " + found(name));
        size_t i = 0;
        while (i < t->fields.size() && t->fields[i].label != label(name)) ++i;
        if (i == t->fields.size())
          fail(name.begin, "unknown field \"" + std::string(label(name)) + "\" of " + describe(t));
        if (got[i]) fail(name.begin, "duplicate field \"" + std::string(label(name)) + "\"");
        expect(Tok::Colon, "\":\" after the field name");
        got[i] = value(t->fields[i].type);
      });
    }
    for (size_t i = 0; i < got.size(); ++i) {
      const Type* ft = t->fields[i].type;
      if (!got[i]) {
        if (ft->kind != TypeKind::Option)
          fail(open.begin, "missing field \"" + t->fields[i].label + "\" of " + describe(t));
        got[i].emplace().type = ft;  // an omitted option field is none
      }
      v.items.push_back(std::move(*got[i]));
    }
  }

  void flags(Val& v) {
    const Type* t = v.type;
    Token open = next();
    if (open.kind != Tok::LBrace) expected(t, open);
    v.flags.assign((t->labels.size() + 31) / 32, 0);
    sequence(Tok::RBrace, [&] {
      Token name = next();
      if (name.kind != Tok::Label) fail(name.begin, "expected a flag of " + describe(t), "found " + found(name));
      size_t i = 0;
      while (i < t->labels.size() && t->labels[i] != label(name)) ++i;
      if (i == t->labels.size()) fail(name.begin, "unknown flag \"" + std::string(label(name)) + "\" of " + describe(t));
      uint32_t bit = uint32_t{1} << (i % 32);
      if (v.flags[i / 32] & bit) fail(name.begin, "duplicate flag \"" + std::string(label(name)) + "\"");
      v.flags[i / 32] |= bit;
    });
  }

  // ---- lexer ----

  void skip_space() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (text_.substr(pos_, 2) == "//") {
        size_t nl = text_.find('\n', pos_);
        pos_ = nl == std::string_view::npos ? text_.size() : nl;
      } else {
        break;
      }
    }
  }

  Token lex() {
    skip_space();
    Token t;
    t.begin = pos_;
    if (pos_ == text_.size()) {
      t.end = pos_;
      return t;
    }
    char c = text_[pos_];
    static constexpr std::string_view kPunct = "{}()[]:,#";
    static constexpr Tok kPunctTok[] = {Tok::LBrace,   Tok::RBrace,   Tok::LParen, Tok::RParen, Tok::LBracket,
                                        Tok::RBracket, Tok::Colon,    Tok::Comma,  Tok::Hash};
    if (size_t p = kPunct.find(c); p != std::string_view::npos) {
      t.kind = kPunctTok[p];
      ++pos_;
    } else if (c == '-' || is_digit(c)) {
      number(t);
    } else if (c == '%' || is_alpha(c)) {
      t.kind = Tok::Label;
      size_t start = pos_ + (c == '%');
      pos_ = start;
      while (pos_ < text_.size() && is_label_char(text_[pos_])) ++pos_;
      if (!is_label(text_.substr(start, pos_ - start)))
        fail(t.begin, "invalid label \"" + std::string(text_.substr(t.begin, pos_ - t.begin)) + "\"",
             "labels are kebab-case words like \"a-b2\" or \"HTTP-get\"");
    } else if (c == '\'') {
      char_literal(t);
    } else if (c == '"') {
      if (text_.substr(pos_, 3) == "\"\"\"")
        multiline_string(t);
      else
        string_literal(t);
    } else {
      size_t i = pos_;
      std::string ch;
      utf8::append(ch, next_code_point(text_, i));
      fail(pos_, "unexpected character \"" + ch + "\"");
    }
    t.end = pos_;
    return t;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, or -inf.
  void number(Token& t) {
    t.kind = Tok::Number;
    size_t start = pos_;
    auto digits = [&] {
      size_t from = pos_;
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
      return pos_ > from;
    };
    auto at = [&](char c) { return pos_ < text_.size() && text_[pos_] == c; };
    bool ok = true;
    if (at('-')) ++pos_;
    if (text_.substr(pos_, 3) == "inf" && start + 1 == pos_) {
      pos_ += 3;
    } else if (at('0')) {
      ++pos_;
    } else {
      ok = digits();
    }
    if (ok && at('.')) ok = (++pos_, digits());
    if (ok && (at('e') || at('E'))) {
      ++pos_;
      if (at('+') || at('-')) ++pos_;
      ok = digits();
    }
    if (!ok || (pos_ < text_.size() && (is_label_char(text_[pos_]) || text_[pos_] == '.'))) {
      while (pos_ < text_.size() && (is_label_char(text_[pos_]) || text_[pos_] == '.' || text_[pos_] == '+')) ++pos_;
      fail(start, "invalid number \"" + std::string(text_.substr(start, pos_ - start)) + "\"");
    }
  }

  // An escape after `\` at pos_ (pos_ on the backslash); returns the char.
  uint32_t escape() {
    size_t start = pos_++;
    auto bad = [&](const char* why) {
      size_t end = std::min(text_.size(), pos_ + 1);
      fail(start, "invalid escape \"" + std::string(text_.substr(start, end - start)) + "\"", why);
    };
    if (pos_ == text_.size()) bad("");
    switch (text_[pos_++]) {
      case '\'': return '\'';
      case '"': return '"';
      case '\\': return '\\';
      case 't': return '\t';
      case 'n': return '\n';
      case 'r': return '\r';
      case 'u': break;
      default: --pos_, bad("escapes are \\' \\\" \\\\ \\t \\n \\r \\u{hex}");
    }
    if (pos_ == text_.size() || text_[pos_] != '{') bad("write \\u{hex}");
    ++pos_;
    uint32_t cp = 0;
    size_t n = 0;
    for (; pos_ < text_.size() && std::isxdigit(static_cast<unsigned char>(text_[pos_])); ++pos_, ++n) {
      char h = text_[pos_];
      cp = cp * 16 + static_cast<uint32_t>(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
      if (n == 6) bad("at most 6 hex digits");
    }
    if (n == 0 || pos_ == text_.size() || text_[pos_] != '}') bad("write \\u{hex}");
    if (!is_scalar(cp)) bad("not a Unicode scalar value");
    ++pos_;
    return cp;
  }

  void char_literal(Token& t) {
    t.kind = Tok::Char;
    size_t start = pos_++;
    if (pos_ == text_.size() || text_[pos_] == '\n') fail(start, "unterminated char literal");
    if (text_[pos_] == '\'') fail(start, "empty char literal", "write '\\'' for a quote");
    t.cp = text_[pos_] == '\\' ? escape() : next_code_point(text_, pos_);
    if (pos_ < text_.size() && text_[pos_] == '\'') {
      ++pos_;
      return;
    }
    size_t close = text_.find_first_of("'\n", pos_);
    if (close != std::string_view::npos && text_[close] == '\'')
      fail(start, "char literal holds more than one character");
    fail(start, "unterminated char literal");
  }

  // Decodes text up to `end` (no quotes or newlines in it) into `out`.
  void unescape_to(size_t end, std::string& out) {
    while (pos_ < end) {
      if (text_[pos_] == '\\') {
        utf8::append(out, escape());  // never passes `end`: no escape holds a line break
      } else {
        out += text_[pos_++];
      }
    }
  }

  void string_literal(Token& t) {
    t.kind = Tok::String;
    size_t start = pos_++;
    while (true) {
      if (pos_ == text_.size() || text_[pos_] == '\n')
        fail(start, "unterminated string", "a line break in a string is written \\n");
      char c = text_[pos_];
      if (c == '"') break;
      if (c == '\\')
        utf8::append(t.str, escape());
      else
        t.str += text_[pos_++];
    }
    ++pos_;
  }

  // """<newline> lines <newline> spaces""": the closing line's spaces are
  // removed from the start of every line.
  void multiline_string(Token& t) {
    t.kind = Tok::String;
    size_t start = pos_;
    size_t close = text_.find("\"\"\"", start + 3);
    if (close == std::string_view::npos) fail(start, "unterminated multiline string");
    size_t body = start + 3;
    if (text_.substr(body, 1) != "\n" && text_.substr(body, 2) != "\r\n")
      fail(body, "invalid multiline string: the opening \"\"\" must be followed by a line break");
    size_t last_nl = text_.rfind('\n', close);
    std::string_view indent = text_.substr(last_nl + 1, close - last_nl - 1);
    if (indent.find_first_not_of(' ') != std::string_view::npos)
      fail(close, "invalid multiline string: the closing \"\"\" must be preceded only by spaces on its line");
    size_t line = text_.find('\n', body) + 1;
    bool first = true;
    while (line <= last_nl) {
      size_t nl = text_.find('\n', line);
      if (text_.substr(line, indent.size()) != indent)
        fail(line, "invalid multiline string: lines must be indented at least as much as the closing \"\"\"");
      size_t end = nl > line && text_[nl - 1] == '\r' ? nl - 1 : nl;
      if (!first) t.str += '\n';
      first = false;
      pos_ = line + indent.size();
      unescape_to(end, t.str);
      line = nl + 1;
    }
    pos_ = close + 3;
  }

  static bool valid_call_name(std::string_view name) {
    size_t hash = name.rfind('#');
    if (hash != std::string_view::npos) {
      auto iface = parse_extern_name(name.substr(0, hash));
      if (!iface || iface->kind != ExternNameParts::Kind::Interface) return false;
      name = name.substr(hash + 1);
    }
    auto func = parse_extern_name(name);
    return func && func->kind != ExternNameParts::Kind::Interface;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::optional<Token> peeked_;
  int depth_ = 0;
};

// ---- printing ----

// Characters that would be invisible or merge into their neighbours, printed
// as \u{...} (roughly what Rust's escape_debug, and so wasmtime, escapes).
bool needs_unicode_escape(uint32_t c) {
  static constexpr std::pair<uint32_t, uint32_t> kRanges[] = {
      {0x0000, 0x001f}, {0x007f, 0x009f}, {0x00ad, 0x00ad}, {0x0300, 0x036f}, {0x061c, 0x061c},
      {0x180e, 0x180e}, {0x1ab0, 0x1aff}, {0x1dc0, 0x1dff}, {0x200b, 0x200f}, {0x2028, 0x202e},
      {0x2060, 0x206f}, {0x20d0, 0x20ff}, {0xd800, 0xdfff}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f},
      {0xfeff, 0xfeff}, {0xfff9, 0xfffb}, {0xfffe, 0xffff}, {0xe0000, 0xe0fff},
  };
  if (c > 0x10ffff) return true;
  for (auto [lo, hi] : kRanges)
    if (c >= lo && c <= hi) return true;
  return false;
}

// Quotes of both kinds are escaped in chars and strings alike, as wasmtime
// prints them.
void print_char(std::string& out, uint32_t c) {
  switch (c) {
    case '\\': out += "\\\\"; return;
    case '"': out += "\\\""; return;
    case '\'': out += "\\'"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
  }
  if (needs_unicode_escape(c)) {
    char buf[8];
    auto r = std::to_chars(buf, buf + sizeof buf, c, 16);
    out += "\\u{" + std::string(buf, r.ptr) + "}";
  } else {
    utf8::append(out, c);
  }
}

// Shortest round-trip digits written out positionally, never with an
// exponent: wasmtime prints floats this way (Rust's Display).
template <class F>
void print_float(std::string& out, F x) {
  if (std::isnan(x)) {
    out += "nan";
    return;
  }
  if (std::isinf(x)) {
    out += x < 0 ? "-inf" : "inf";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string_view s(buf, r.ptr - buf);
  if (s[0] == '-') {
    out += '-';
    s.remove_prefix(1);
  }
  size_t e = s.find('e');
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits += c;
  std::string_view exp = s.substr(e + 1);
  bool neg_exp = exp[0] == '-';
  int magnitude = 0;
  std::from_chars(exp.data() + 1, exp.data() + exp.size(), magnitude);
  // `point` digits stand before the decimal point.
  long point = (neg_exp ? -magnitude : magnitude) + 1;
  long n = static_cast<long>(digits.size());
  if (point <= 0)
    out += "0." + std::string(static_cast<size_t>(-point), '0') + digits;
  else if (point >= n)
    out += digits + std::string(static_cast<size_t>(point - n), '0');
  else
    out += digits.substr(0, static_cast<size_t>(point)) + "." + digits.substr(static_cast<size_t>(point));
}

void print_label(std::string& out, const std::string& label) {
  if (is_keyword(label)) out += '%';
  out += label;
}

void print(std::string& out, const Val& v);

void print_payload(std::string& out, const Val& v) {
  if (v.items.empty()) return;
  out += '(';
  print(out, v.items[0]);
  out += ')';
}

void print_list(std::string& out, std::span<const Val> items, char open, char close) {
  out += open;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    print(out, items[i]);
  }
  out += close;
}

void print_bytes(std::string& out, std::string_view bytes) {
  out += '[';
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(static_cast<uint8_t>(bytes[i]));
  }
  out += ']';
}

void print(std::string& out, const Val& v) {
  const Type* t = v.type;
  switch (t->kind) {
    case TypeKind::Bool: out += v.bits ? "true" : "false"; break;
    case TypeKind::S8: case TypeKind::S16: case TypeKind::S32: case TypeKind::S64: {
      int shift = 64 - int_width(t->kind);
      out += std::to_string(static_cast<int64_t>(v.bits << shift) >> shift);
      break;
    }
    case TypeKind::U8: case TypeKind::U16: case TypeKind::U32: case TypeKind::U64:
      out += std::to_string(v.bits & (std::numeric_limits<uint64_t>::max() >> (64 - int_width(t->kind))));
      break;
    case TypeKind::F32: print_float(out, v.f32()); break;
    case TypeKind::F64: print_float(out, v.f64); break;
    case TypeKind::Char:
      out += '\'';
      print_char(out, static_cast<uint32_t>(v.bits));
      out += '\'';
      break;
    case TypeKind::String:
      out += '"';
      for (size_t i = 0; i < v.str.size();) print_char(out, next_code_point(v.str, i));
      out += '"';
      break;
    case TypeKind::List:
      if (holds_bytes(t)) {
        print_bytes(out, v.str);
      } else {
        print_list(out, v.items, '[', ']');
      }
      break;
    case TypeKind::Tuple: print_list(out, v.items, '(', ')'); break;
    case TypeKind::Record: {
      out += '{';
      bool any = false;
      for (size_t i = 0; i < v.items.size(); ++i) {
        const Val& f = v.items[i];
        if (f.kind() == TypeKind::Option && f.case_index == 0) continue;  // none fields are left out
        out += any ? ", " : "";
        out += t->fields[i].label + ": ";
        print(out, f);
        any = true;
      }
      out += any ? "}" : ":}";
      break;
    }
    case TypeKind::Variant:
      print_label(out, t->fields[v.case_index].label);
      print_payload(out, v);
      break;
    case TypeKind::Enum: print_label(out, t->labels[v.case_index]); break;
    case TypeKind::Option:
      out += v.case_index ? "some" : "none";
      print_payload(out, v);
      break;
    case TypeKind::Result:
      out += v.case_index ? "err" : "ok";
      print_payload(out, v);
      break;
    case TypeKind::Flags: {
      out += '{';
      bool any = false;
      for (size_t i = 0; i < t->labels.size(); ++i) {
        if (i / 32 >= v.flags.size() || !(v.flags[i / 32] >> (i % 32) & 1)) continue;
        out += any ? ", " : "";
        out += t->labels[i];
        any = true;
      }
      out += '}';
      break;
    }
    case TypeKind::Own: case TypeKind::Borrow: case TypeKind::Stream: case TypeKind::Future:
    case TypeKind::ErrorContext:
      out += std::string("#") + to_string(t->kind) + "(" + std::to_string(v.bits) + ")";
      break;
    default:
      throw Error(ErrorKind::Usage, std::string(to_string(t->kind)) + " values have no WAVE encoding");
  }
}

}  // namespace

Val parse_wave(std::string_view text, const Type* type) {
  Parser p(text);
  Val v = p.value(type);
  p.finish();
  return v;
}

std::string wave_call_name(std::string_view call) { return Parser(call).call_name(); }

std::vector<Val> parse_wave_args(std::string_view call, const Type* functype, std::string* name_out) {
  if (functype->kind != TypeKind::Func)
    throw Error(ErrorKind::Usage, "WAVE: not a function type: " + to_string(functype));
  Parser p(call);
  std::string name = p.call_name();
  std::vector<Val> args = p.args(functype, name);
  p.finish();
  if (name_out) *name_out = std::move(name);
  return args;
}

std::string print_wave(const Val& v) {
  std::string out;
  print(out, v);
  return out;
}

std::string print_wave_results(std::span<const Val> results) {
  if (results.size() == 1) return print_wave(results[0]);
  std::string out;
  print_list(out, results, '(', ')');
  return out;
}

}  // namespace weft::component
