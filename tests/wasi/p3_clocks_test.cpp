// WASI 0.3's wasi:clocks/timezone: the host's zone as TZ (or
// /etc/localtime) says, its offsets from the C library.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "loop/reactor.h"
#include "p2_support.h"
#include "wasi/p3/state.h"

using namespace weft;
using namespace weft::testing;  // Type, TypeKind, Val, WitTypes, HostCaller
namespace hv = component::host_values;

namespace {

// Sets TZ for one test and puts the old value back.
class ScopedTz {
 public:
  explicit ScopedTz(const char* value) {
    if (const char* old = getenv("TZ")) old_ = old;
    setenv("TZ", value, 1);
  }
  ~ScopedTz() {
    if (old_.empty()) {
      unsetenv("TZ");
    } else {
      setenv("TZ", old_.c_str(), 1);
    }
  }

 private:
  std::string old_;
};

struct Fixture {
  WitTypes types;
  HostCaller caller{types};
  loop::Reactor reactor;
  wasi::common::WasiConfig config;
  wasi::p3::State st{reactor, config};
  const Type* string = types.prim(TypeKind::String);
  const Type* instant =
      types.record({{"seconds", types.prim(TypeKind::S64)}, {"nanoseconds", types.prim(TypeKind::U32)}});
  Fixture() { wasi::p3::add_clocks(caller.host, st); }

  Val at(int64_t seconds) {
    return hv::record(instant, {hv::scalar(types.prim(TypeKind::S64), static_cast<uint64_t>(seconds)),
                                hv::scalar(types.prim(TypeKind::U32), 0)});
  }
  // utc-offset in seconds, or nullopt.
  std::optional<int64_t> offset(int64_t seconds) {
    Val r = caller.call("wasi:clocks/timezone@0.3.0", "utc-offset", {at(seconds)},
                        types.option(types.prim(TypeKind::S64)));
    const Val* v = hv::option(r);
    if (!v) return std::nullopt;
    return static_cast<int64_t>(hv::as_uint(*v)) / 1000000000;
  }
};

}  // namespace

TEST_CASE("p3 timezone: offsets follow the zone's rules", "[wasi][p3]") {
  Fixture f;
  ScopedTz tz("CET-1CEST,M3.5.0,M10.5.0/3");  // a POSIX rule: no zone database needed
  CHECK(f.offset(1767225600) == 3600);        // 2026-01-01T00:00Z: winter time
  CHECK(f.offset(1782864000) == 7200);        // 2026-07-01T00:00Z: summer time
  // Not an IANA name: none, and the debug string is the offset.
  Val id = f.caller.call("wasi:clocks/timezone@0.3.0", "iana-id", {}, f.types.option(f.string));
  CHECK(hv::option(id) == nullptr);
  Val debug = f.caller.call("wasi:clocks/timezone@0.3.0", "to-debug-string", {}, f.string);
  const std::string& text = hv::as_string(debug);
  CHECK((text == "+01:00" || text == "+02:00"));
}

TEST_CASE("p3 timezone: an IANA name in TZ is the zone's id", "[wasi][p3]") {
  Fixture f;
  ScopedTz tz(":Europe/Berlin");
  Val id = f.caller.call("wasi:clocks/timezone@0.3.0", "iana-id", {}, f.types.option(f.string));
  REQUIRE(hv::option(id) != nullptr);
  CHECK(hv::as_string(*hv::option(id)) == "Europe/Berlin");
  Val debug = f.caller.call("wasi:clocks/timezone@0.3.0", "to-debug-string", {}, f.string);
  CHECK(hv::as_string(debug) == "Europe/Berlin");
  ScopedTz utc("UTC");
  CHECK(f.offset(1782864000) == 0);
}
