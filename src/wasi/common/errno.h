// WASI error codes and the one mapping from host errno values to them. p1
// returns these numbers as they are; p2/p3 map them onto their error-code
// variants.
#pragma once

#include <cstdint>

namespace weft::wasi::common {

enum class Errno : uint16_t {
  Success = 0, TooBig, Acces, AddrInUse, AddrNotAvail, AfNoSupport, Again, Already, BadF,
  BadMsg, Busy, Canceled, Child, ConnAborted, ConnRefused, ConnReset, DeadLk, DestAddrReq,
  Dom, DQuot, Exist, Fault, FBig, HostUnreach, IdRm, IlSeq, InProgress, Intr, Inval, Io,
  IsConn, IsDir, Loop, MFile, MLink, MsgSize, MultiHop, NameTooLong, NetDown, NetReset,
  NetUnreach, NFile, NoBufs, NoDev, NoEnt, NoExec, NoLck, NoLink, NoMem, NoMsg, NoProtoOpt,
  NoSpc, NoSys, NotConn, NotDir, NotEmpty, NotRecoverable, NotSock, NotSup, NotTy, NxIo,
  Overflow, OwnerDead, Perm, Pipe, Proto, ProtoNoSupport, ProtoType, Range, RoFs, SPipe,
  Srch, Stale, TimedOut, TxtBsy, XDev, NotCapable,
};

// Maps a host errno (positive, as in `errno`) to its WASI code; unknown
// values become Io.
Errno from_host_errno(int err);

// from_host_errno(errno), for the common `if (syscall() < 0) return last_error();`.
Errno last_error();

}  // namespace weft::wasi::common
