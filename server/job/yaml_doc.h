/* One YAML document (a problem package's problem.yaml or testdata.yaml) read
 * into a jansson value, with libyaml, the way the reference judge tool
 * (problemtools, which uses PyYAML's SafeLoader: YAML 1.1) reads it, or
 * refused with a message naming the line.
 *
 *   documents  exactly one. An empty text, or one of only comments and
 *              whitespace, is json null (a caller takes it for an empty
 *              mapping); so is a document that is only "---". A second
 *              document, even an empty one ("---" twice), is an error.
 *   mappings   objects. A key is a scalar (a mapping or a sequence as a key
 *              is an error), kept as its text: `1:`, `yes:` and `~:` are
 *              the keys "1", "yes" and "~". The same text twice in one
 *              mapping is an error naming the key. A plain `<<` key (a
 *              merge in PyYAML) is an error.
 *   sequences  arrays.
 *   scalars    quoted ('...', "...") and block (|, >) ones are strings.
 *              Plain ones are resolved as PyYAML resolves them:
 *              null     ~ null Null NULL, and the empty scalar;
 *              boolean  yes Yes YES no No NO true True TRUE false False
 *                       FALSE on On ON off Off OFF;
 *              integer  an optional sign, then 0 or [1-9][0-9_]* (decimal),
 *                       0x[0-9a-fA-F_]+, 0[0-7_]+ (octal), 0b[01_]+, or
 *                       [1-9][0-9_]*(:[0-5]?[0-9])+ (base 60: 1:30 is 90);
 *                       '_' is ignored. "09" and "0o17" are strings. A
 *                       value outside json_int_t, or "0x_" (no digits), is
 *                       an error;
 *              float    an optional sign, then [0-9][0-9_]*.[0-9_]* with an
 *                       optional exponent whose sign is required (e or E,
 *                       then + or -, then digits); or .[0-9][0-9_]* and the
 *                       exponent, without a sign; or base 60 with a
 *                       fraction (1:30.5 is 90.5); or .inf .Inf .INF with an
 *                       optional sign; or .nan .NaN .NAN. So "1e-6",
 *                       "1.0e6" and "-.5" are strings, "1.0e+6", "1." and
 *                       ".5" are floats. jansson holds no infinity or NaN:
 *                       those values (a number too large for a double
 *                       included) are the strings "inf", "-inf" and "nan",
 *                       which strtod reads back;
 *              string   anything else: "=", "<<" (errors in PyYAML) and
 *                       dates ("2024-01-31", a datetime.date in PyYAML)
 *                       included.
 *   tags       !!str makes a string of any scalar. !!int, !!float, !!bool
 *              and !!null read the scalar, quoted or not, as that type: its
 *              text must be one the rules above give that type, else it is
 *              an error (PyYAML is looser there: it takes "0o17" as an int,
 *              "++1" as a float, anything as a null). !!float also takes
 *              what Python's float() takes of the same digits: an integer
 *              ("1" and "012" are 1.0 and 12.0), a base 60 one ("1:30" is
 *              90.0), an exponent without a '.' or a sign ("1e-6"), a
 *              signed ".5"; "0x10" is an error. !!map on a mapping and
 *              !!seq on a sequence change nothing. Any other tag ("!",
 *              "!foo", "!!binary", "!!timestamp", ...) is an error.
 *   anchors    &name is allowed and ignored; any alias (*name) is an error:
 *              nothing is ever expanded.
 *   bounds     at most 64 mappings and sequences nested in each other, and
 *              at most 100000 nodes (scalars, keys included, mappings and
 *              sequences), else an error.
 *   bytes      the text is UTF-8: a NUL byte or invalid UTF-8 is an error,
 *              and so are the control characters YAML refuses (all of C0
 *              but tab and line breaks, DEL, C1 but NEL). A byte order mark
 *              at the start is skipped. A string may hold a NUL character
 *              written as "\0"; a key may not.
 *
 * Lines in messages count from 1 and end as YAML 1.1 (and libyaml) ends
 * them: at "\n", "\r\n", a lone "\r", NEL, LS or PS (U+0085, U+2028,
 * U+2029). Nothing is read past LENGTH. */
#ifndef SANDPOOL_YAML_DOC_H
#define SANDPOOL_YAML_DOC_H

#include <jansson.h>
#include <stddef.h>

#include "sandbox/base/error.h"

#define SP_YAML_MAX_DEPTH 64
#define SP_YAML_MAX_NODES 100000

/* Read the YAML text TEXT (LENGTH bytes, not NUL-terminated, may be NULL when
 * LENGTH is 0) named WHAT in messages ("problem.yaml") into *OUT, a new
 * reference. Returns 0, or -1 with *OUT NULL and ERR filled: errno EINVAL
 * for text that breaks a rule above, ENOMEM when memory ran out; the message
 * names WHAT, the line and what is wrong, and is fit to show to a client
 * (valid UTF-8, what the text holds quoted with its control characters
 * escaped and cut short). */
int sp_yaml_parse(const char *text, size_t length, const char *what, json_t **out,
		  struct sp_error *err);

#endif
