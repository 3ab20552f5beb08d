#pragma once

// Kinetica's string subtypes: the column properties time, datetime,
// decimal, ulong, uuid and ipv4 on a string column. The engine stores such
// values as the strings given, once they have the subtype's form; a value
// without it is refused with an error that says the form.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/table/types.h"

namespace engine {

// The subtype property of a string column ("datetime", ...), or "" for none.
absl::string_view StringSubtype(const ColumnDef& def);

// OK when `text` has the form of `subtype` (StringSubtype's answer; "": any
// text): datetime 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]' (or 'T' between), time
// 'HH:MM:SS[.ffffff]', decimal [-+]digits[.digits] (at most 15 and 4),
// ulong 0 to 18446744073709551615 in digits, uuid 8-4-4-4-12 hexadecimal
// digits, ipv4 A.B.C.D of 0 to 255 each. Otherwise InvalidArgument naming
// the value and the form.
absl::Status CheckSubtype(absl::string_view subtype, absl::string_view text);

// A value of `subtype`'s form made from the bits of `word` (for
// /insert/records/random): datetimes from 2010 to 2029, any time of day,
// decimals of up to 9 digits and 4 after the point, any ulong, uuid or
// address. REQUIRES: subtype is one StringSubtype gives.
std::string SubtypeValue(absl::string_view subtype, uint64_t word);

}  // namespace engine
