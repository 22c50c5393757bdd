/* A problem package, unpacked (archive_files.h), read into a problem
 * (problem.h): its format told, its settings read, its tests ordered and
 * written into the data file, its programs found.
 *
 * The package may sit in one top folder of the archive ("hello/...") or at
 * its top (a package whose every file is in data/, without a
 * data/problem.yaml, is at the top: data/ is its test data). Formats:
 *
 * ICPC/Kattis (a problem.yaml, or a data/ folder, at the package's top):
 *   - problem_format_version "legacy" (or none, or "legacy-icpc"): the
 *     legacy specification. problem.yaml's keys as it lists them (any other
 *     is refused); limits memory and output (MiB) are kept, time_multiplier
 *     and time_safety_margin are read and not used (a legacy package has no
 *     time limit of its own); validation "default" or "custom" with "score"
 *     and "interactive"; validator_flags; grading with objective,
 *     show_test_data_groups and the older accept_score, reject_score, range,
 *     on_reject. Test data groups are data/ and its folders, each one's tests
 *     (NAME.in with NAME.ans) and subgroups in lexicographic order of their
 *     file names; testdata.yaml's on_reject, grading ("default" only),
 *     grader_flags, output_validator_flags (a string), input_validator_flags
 *     (not used), accept_score, reject_score, range, each inherited from the
 *     nearest folder that sets it.
 *   - "2023-07-draft", "2023-07", "2025-09" or "draft": the newer
 *     specification's keys; type "pass-fail", "scoring", "interactive"
 *     ("multi-pass" and "submit-answer" are refused); limits.time_limit
 *     (seconds) is the problem's time limit; test_group.yaml in sample,
 *     secret and secret's groups with max_score, score_aggregation
 *     (pass-fail, sum, min), output_validator_args, args (only empty),
 *     full_feedback, input_validator_args, *_visualizer_args (not used);
 *     require_pass and static validation are refused; a test's NAME.yaml
 *     with output_validator_args, hint, description, full_feedback. Scores
 *     are laid onto the same grading: a group's tests are worth max_score
 *     divided among them (sum), max_score each (min, pass-fail), and the
 *     submission's score is secret's.
 *   A .timelimit file at the top (DOMjudge's: seconds) gives a time limit
 *   too. Custom output validators are the one program in
 *   output_validators/ (legacy) or output_validator/ (newer), a file or a
 *   folder of files; its language is told by the extension of its source
 *   (build and run scripts are refused). Files and folders whose names the
 *   format does not allow (".git", "-x") are left out, as the format says.
 *
 * Plain (anything else): every NAME.in with NAME.ans or NAME.out beside it,
 *   in any folder, ordered by name with numbers compared as numbers
 *   ("2" before "10"); a testlib checker "checker.EXT" or "check.EXT" and a
 *   testlib interactor "interactor.EXT" at the top, compiled with the
 *   top's headers (*.h, *.hpp: testlib.h); without a checker the answer is
 *   compared by the built-in "tokens" checker. With an interactor the
 *   answers are optional.
 *
 * Errors are for the client: a message naming the file and what is wrong
 * with it. */
#ifndef SANDPOOL_PROBLEM_PACKAGE_H
#define SANDPOOL_PROBLEM_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "archive_files.h"
#include "language.h"
#include "problem.h"
#include "problem_build.h"
#include "sandbox/base/error.h"

/* Read FILES (a whole package) into OUT for a server of LANGUAGES, writing
 * the tests' bytes to DATA_FD (an empty file) and counting them in
 * OUT->problem.data_bytes; at most MAX_TESTS tests. OUT->problem.id is the
 * hash of FILES (sp_package_id). Returns 0, or -1 with ERR: EINVAL for a
 * package that is not right (its message for the client), EIO or ENOMEM
 * for the server's own failure. OUT borrows from FILES. */
int sp_package_read(const struct sp_archive_files *files, const struct sp_language_set *languages,
		    size_t max_tests, int data_fd, struct sp_package *out, struct sp_error *err);

/* The id of the package FILES: a sha256 of each file's name (from the
 * package's top: the archive's top folder, if it has one, does not count),
 * executable bit, length and bytes, in name order (how they were packed
 * does not count either), its first 32 hex digits. */
void sp_package_id(const struct sp_archive_files *files, char id[SP_PROBLEM_ID_SIZE]);

void sp_package_free(struct sp_package *package);

#endif
