/* seccomp: a policy in the OCI seccomp JSON subset is parsed with jansson,
 * compiled with libseccomp and exported as a classic BPF program, once, at
 * pool start; the syscalls it always allows go in front of that program as
 * a search over their runs of numbers (seccomp_ranges.h), which the kernel
 * loads faster. A step process loads that program right before execve.
 *
 * Policy semantics, beyond the OCI text:
 * - the native ABI is always filtered. "architectures" may add compat ABIs of
 *   the native one (x86 and x32 on x86_64, arm on aarch64, ...); any other
 *   listed ABI is ignored, so one policy can serve several hosts. A syscall
 *   made through an ABI that is not in the filter kills the process.
 * - a syscall name that libseccomp does not know for the filter's ABIs is
 *   skipped: policies name syscalls newer than the library.
 * - errnoRet defaults to EPERM, defaultErrnoRet too.
 * - a rule whose action is the default action is left out (libseccomp refuses
 *   it, and without it such calls get the default action anyway).
 * - libseccomp silently keeps only the more general of two rules for one
 *   syscall when the conditions of one contain those of the other, whatever
 *   their actions. Such a pair with different actions is refused here, so
 *   "allow ioctl" followed by "refuse ioctl TIOCSTI" is an error, not a hole.
 * - one comparison per argument in a rule (a libseccomp limit).
 */
#include "seccomp.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/log.h"
#include "seccomp_ranges.h"

#define SP_SECCOMP_MAX_ARGS   6
#define SP_SECCOMP_MAX_ERRNO  4095
#define SP_SECCOMP_MAX_ARCHES 4
#define SP_SECCOMP_WHERE_MAX  64

#define policy_error(err, ...) sp_error_set(err, EINVAL, "seccomp policy: " __VA_ARGS__)

struct sp_name_value {
	const char *name;
	uint32_t value;
};

/* One rule for one syscall: an entry of "syscalls" gives one per name. */
struct sp_rule {
	const char *name; /* owned by the JSON document */
	size_t entry;	  /* index in "syscalls", for messages */
	int nr;
	uint32_t action;
	unsigned int argc;
	struct scmp_arg_cmp cmp[SP_SECCOMP_MAX_ARGS];
};

struct sp_policy {
	uint32_t default_action;
	uint32_t arches[SP_SECCOMP_MAX_ARCHES]; /* compat ABIs added to the native one */
	size_t n_arches;
	struct sp_rule *rules;
	size_t n_rules;
	size_t cap_rules;
	bool ranges; /* the native ABI's always allowed syscalls go to seccomp_ranges */
};

static const struct sp_name_value actions[] = {
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
};

static const struct sp_name_value operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct sp_name_value architectures[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

static void sp_policy_free(struct sp_policy *policy)
{
	free(policy->rules);
	policy->rules = NULL;
}

static void sp_seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx != NULL)
		seccomp_release(*ctx);
}

#define cleanup_policy	__attribute__((cleanup(sp_policy_free)))
#define cleanup_seccomp __attribute__((cleanup(sp_seccomp_releasep)))

static const struct sp_name_value *lookup_name(const struct sp_name_value *table, size_t n,
					       const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

static const char *action_name(uint32_t action)
{
	size_t i;

	if ((action & 0xffff0000U) == SCMP_ACT_ERRNO(0))
		return "SCMP_ACT_ERRNO";
	for (i = 0; i < SP_ARRAY_SIZE(actions); i++)
		if (actions[i].value == action)
			return actions[i].name;
	return "?";
}

/* A member of an object, with JSON null read as absent. */
static json_t *field(json_t *object, const char *key)
{
	json_t *value = json_object_get(object, key);

	return json_is_null(value) ? NULL : value;
}

static int parse_errno(json_t *value, const char *where, const char *key, uint32_t *out,
		       struct sp_error *err)
{
	json_int_t n;

	if (!json_is_integer(value))
		return policy_error(err, "%s%s: expected an integer", where, key);
	n = json_integer_value(value);
	if (n < 0 || n > SP_SECCOMP_MAX_ERRNO)
		return policy_error(err, "%s%s: %" JSON_INTEGER_FORMAT " is not an errno (0..%d)",
				    where, key, n, SP_SECCOMP_MAX_ERRNO);
	*out = (uint32_t)n;
	return 0;
}

/* An action and, for SCMP_ACT_ERRNO, its errno: where is "" or "syscalls[N]." */
static int parse_action(json_t *object, const char *key, const char *errno_key, const char *where,
			uint32_t *action, struct sp_error *err)
{
	const struct sp_name_value *found;
	json_t *name = field(object, key);
	json_t *ret = field(object, errno_key);
	uint32_t errnum = EPERM;

	if (name == NULL)
		return policy_error(err, "%s%s: missing", where, key);
	if (!json_is_string(name))
		return policy_error(err, "%s%s: expected a string", where, key);
	found = lookup_name(actions, SP_ARRAY_SIZE(actions), json_string_value(name));
	if (found == NULL)
		return policy_error(err, "%s%s: unknown action \"%s\"", where, key,
				    json_string_value(name));
	if (found->value != SCMP_ACT_ERRNO(0)) {
		if (ret != NULL)
			return policy_error(err, "%s%s: only valid with SCMP_ACT_ERRNO", where,
					    errno_key);
		*action = found->value;
		return 0;
	}
	if (ret != NULL && parse_errno(ret, where, errno_key, &errnum, err) < 0)
		return -1;
	*action = SCMP_ACT_ERRNO(errnum);
	return 0;
}

static int parse_u64(json_t *object, const char *key, bool required, const char *where,
		     uint64_t *out, struct sp_error *err)
{
	json_t *value = field(object, key);

	if (value == NULL) {
		if (required)
			return policy_error(err, "%s.%s: missing", where, key);
		*out = 0;
		return 0;
	}
	if (!json_is_integer(value))
		return policy_error(err, "%s.%s: expected an integer", where, key);
	/* Negative numbers wrap, so -1 reads as 0xffffffffffffffff. */
	*out = (uint64_t)json_integer_value(value);
	return 0;
}

static int parse_operator(json_t *object, const char *where, enum scmp_compare *op,
			  struct sp_error *err)
{
	const struct sp_name_value *found;
	json_t *name = field(object, "op");

	if (name == NULL)
		return policy_error(err, "%s.op: missing", where);
	if (!json_is_string(name))
		return policy_error(err, "%s.op: expected a string", where);
	found = lookup_name(operators, SP_ARRAY_SIZE(operators), json_string_value(name));
	if (found == NULL)
		return policy_error(err, "%s.op: unknown operator \"%s\"", where,
				    json_string_value(name));
	*op = (enum scmp_compare)found->value;
	return 0;
}

/* {index, value, valueTwo, op}: for MASKED_EQ value is the mask and valueTwo
 * the datum, as in libseccomp's SCMP_CMP(). */
static int parse_arg(json_t *arg, const char *where, struct scmp_arg_cmp *cmp, struct sp_error *err)
{
	enum scmp_compare op = SCMP_CMP_EQ;
	uint64_t index, value, two;

	if (!json_is_object(arg))
		return policy_error(err, "%s: expected an object", where);
	if (parse_u64(arg, "index", true, where, &index, err) < 0 ||
	    parse_u64(arg, "value", true, where, &value, err) < 0 ||
	    parse_u64(arg, "valueTwo", false, where, &two, err) < 0 ||
	    parse_operator(arg, where, &op, err) < 0)
		return -1;
	if (index >= SP_SECCOMP_MAX_ARGS)
		return policy_error(err, "%s.index: %" PRIu64 " is not an argument index (0..%d)",
				    where, index, SP_SECCOMP_MAX_ARGS - 1);
	cmp->arg = (unsigned int)index;
	cmp->op = op;
	cmp->datum_a = value;
	cmp->datum_b = op == SCMP_CMP_MASKED_EQ ? two : 0;
	return 0;
}

static int parse_args(json_t *entry, const char *where, struct sp_rule *rule, struct sp_error *err)
{
	char arg_where[SP_SECCOMP_WHERE_MAX + 32];
	json_t *args = field(entry, "args");
	json_t *arg;
	size_t i, j;

	rule->argc = 0;
	if (args == NULL)
		return 0;
	if (!json_is_array(args))
		return policy_error(err, "%s.args: expected an array", where);
	if (json_array_size(args) > SP_SECCOMP_MAX_ARGS)
		return policy_error(err, "%s.args: more than %d comparisons", where,
				    SP_SECCOMP_MAX_ARGS);
	for (i = 0; i < json_array_size(args); i++) {
		arg = json_array_get(args, i);
		snprintf(arg_where, sizeof(arg_where), "%s.args[%zu]", where, i);
		if (parse_arg(arg, arg_where, &rule->cmp[i], err) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (rule->cmp[j].arg == rule->cmp[i].arg)
				return policy_error(
				    err,
				    "%s.index: argument %u is already compared in args[%zu]; "
				    "libseccomp allows one comparison per argument in a rule",
				    arg_where, rule->cmp[i].arg, j);
		rule->argc++;
	}
	return 0;
}

static int policy_grow(struct sp_policy *policy, struct sp_error *err)
{
	size_t cap = policy->cap_rules ? policy->cap_rules * 2 : 64;
	struct sp_rule *rules;

	if (policy->n_rules < policy->cap_rules)
		return 0;
	rules = reallocarray(policy->rules, cap, sizeof(*rules));
	if (rules == NULL)
		return sp_error_set(err, ENOMEM, "seccomp policy: %zu rules", cap);
	policy->rules = rules;
	policy->cap_rules = cap;
	return 0;
}

static bool syscall_known(const struct sp_policy *policy, const char *name)
{
	size_t i;

	if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name) >= 0)
		return true;
	for (i = 0; i < policy->n_arches; i++)
		if (seccomp_syscall_resolve_name_arch(policy->arches[i], name) >= 0)
			return true;
	return false;
}

static int add_named_rule(struct sp_policy *policy, const struct sp_rule *tmpl, const char *name,
			  struct sp_error *err)
{
	struct sp_rule *rule;

	if (!syscall_known(policy, name)) {
		log_debug("seccomp policy: syscalls[%zu]: %s is unknown here, skipped", tmpl->entry,
			  name);
		return 0;
	}
	if (policy_grow(policy, err) < 0)
		return -1;
	rule = &policy->rules[policy->n_rules++];
	*rule = *tmpl;
	rule->name = name;
	/* A pseudo number (negative) when only a compat ABI has the syscall:
	 * libseccomp maps it per ABI. */
	rule->nr = seccomp_syscall_resolve_name(name);
	return 0;
}

static int reject_docker_keys(json_t *entry, const char *where, struct sp_error *err)
{
	static const char *const keys[] = {"includes", "excludes"};
	size_t i;

	for (i = 0; i < SP_ARRAY_SIZE(keys); i++)
		if (field(entry, keys[i]) != NULL)
			return policy_error(err,
					    "%s.%s: Docker profile template keys are not part of "
					    "the OCI format; resolve them first",
					    where, keys[i]);
	return 0;
}

static int parse_entry(struct sp_policy *policy, json_t *entry, size_t index, struct sp_error *err)
{
	char where[SP_SECCOMP_WHERE_MAX];
	char action_where[SP_SECCOMP_WHERE_MAX + 1];
	struct sp_rule tmpl = {.entry = index};
	json_t *names, *name;
	size_t i;

	snprintf(where, sizeof(where), "syscalls[%zu]", index);
	snprintf(action_where, sizeof(action_where), "%s.", where);
	if (!json_is_object(entry))
		return policy_error(err, "%s: expected an object", where);
	if (reject_docker_keys(entry, where, err) < 0 ||
	    parse_action(entry, "action", "errnoRet", action_where, &tmpl.action, err) < 0 ||
	    parse_args(entry, where, &tmpl, err) < 0)
		return -1;
	names = field(entry, "names");
	if (names == NULL)
		return policy_error(err, "%s.names: missing", where);
	if (!json_is_array(names) || json_array_size(names) == 0)
		return policy_error(err, "%s.names: expected a non-empty array of strings", where);
	for (i = 0; i < json_array_size(names); i++) {
		name = json_array_get(names, i);
		if (!json_is_string(name))
			return policy_error(err, "%s.names[%zu]: expected a string", where, i);
		if (add_named_rule(policy, &tmpl, json_string_value(name), err) < 0)
			return -1;
	}
	return 0;
}

static int parse_syscalls(json_t *root, struct sp_policy *policy, struct sp_error *err)
{
	json_t *syscalls = field(root, "syscalls");
	size_t i;

	if (syscalls == NULL)
		return 0;
	if (!json_is_array(syscalls))
		return policy_error(err, "syscalls: expected an array");
	for (i = 0; i < json_array_size(syscalls); i++)
		if (parse_entry(policy, json_array_get(syscalls, i), i, err) < 0)
			return -1;
	return 0;
}

/* Does a kernel of the native architecture also run the arch ABI? */
static bool is_compat_abi(uint32_t native, uint32_t arch)
{
	switch (native) {
	case SCMP_ARCH_X86_64:
		return arch == SCMP_ARCH_X86 || arch == SCMP_ARCH_X32;
	case SCMP_ARCH_AARCH64:
		return arch == SCMP_ARCH_ARM;
	case SCMP_ARCH_PPC64:
		return arch == SCMP_ARCH_PPC;
	case SCMP_ARCH_S390X:
		return arch == SCMP_ARCH_S390;
	case SCMP_ARCH_MIPS64:
		return arch == SCMP_ARCH_MIPS || arch == SCMP_ARCH_MIPS64N32;
	case SCMP_ARCH_MIPSEL64:
		return arch == SCMP_ARCH_MIPSEL || arch == SCMP_ARCH_MIPSEL64N32;
	default:
		return false;
	}
}

static void add_arch(struct sp_policy *policy, uint32_t arch)
{
	size_t i;

	for (i = 0; i < policy->n_arches; i++)
		if (policy->arches[i] == arch)
			return;
	if (policy->n_arches < SP_SECCOMP_MAX_ARCHES)
		policy->arches[policy->n_arches++] = arch;
}

static int parse_architectures(json_t *root, struct sp_policy *policy, struct sp_error *err)
{
	const struct sp_name_value *found;
	json_t *arches = field(root, "architectures");
	uint32_t native = seccomp_arch_native();
	json_t *name;
	size_t i;

	if (arches == NULL)
		return 0;
	if (!json_is_array(arches))
		return policy_error(err, "architectures: expected an array of strings");
	for (i = 0; i < json_array_size(arches); i++) {
		name = json_array_get(arches, i);
		if (!json_is_string(name))
			return policy_error(err, "architectures[%zu]: expected a string", i);
		found = lookup_name(architectures, SP_ARRAY_SIZE(architectures),
				    json_string_value(name));
		if (found == NULL)
			return policy_error(err, "architectures[%zu]: unknown architecture \"%s\"",
					    i, json_string_value(name));
		if (is_compat_abi(native, found->value))
			add_arch(policy, found->value);
	}
	return 0;
}

static int parse_policy(json_t *root, struct sp_policy *policy, struct sp_error *err)
{
	if (!json_is_object(root))
		return policy_error(err, "expected a JSON object");
	if (parse_action(root, "defaultAction", "defaultErrnoRet", "", &policy->default_action,
			 err) < 0 ||
	    parse_architectures(root, policy, err) < 0)
		return -1;
	return parse_syscalls(root, policy, err);
}

static bool cmp_equal(const struct scmp_arg_cmp *a, const struct scmp_arg_cmp *b)
{
	return a->arg == b->arg && a->op == b->op && a->datum_a == b->datum_a &&
	       a->datum_b == b->datum_b;
}

/* Is every comparison of a also one of b? Then a matches whenever b does. */
static bool conditions_contained(const struct sp_rule *a, const struct sp_rule *b)
{
	unsigned int i, j;
	bool found;

	for (i = 0; i < a->argc; i++) {
		found = false;
		for (j = 0; j < b->argc && !found; j++)
			found = cmp_equal(&a->cmp[i], &b->cmp[j]);
		if (!found)
			return false;
	}
	return true;
}

static int check_pair(const struct sp_rule *a, const struct sp_rule *b, struct sp_error *err)
{
	const struct sp_rule *general, *narrow;

	if (a->nr != b->nr || a->action == b->action)
		return 0;
	if (conditions_contained(a, b)) {
		general = a;
		narrow = b;
	} else if (conditions_contained(b, a)) {
		general = b;
		narrow = a;
	} else {
		return 0;
	}
	return policy_error(err,
			    "syscalls[%zu]: the %s rule for \"%s\" is shadowed by the %s rule of "
			    "syscalls[%zu], whose conditions it contains (libseccomp would drop "
			    "it silently); make their conditions disjoint",
			    narrow->entry, action_name(narrow->action), narrow->name,
			    action_name(general->action), general->entry);
}

static int check_shadowing(const struct sp_policy *policy, struct sp_error *err)
{
	size_t i, j;

	for (i = 0; i < policy->n_rules; i++)
		for (j = i + 1; j < policy->n_rules; j++)
			if (check_pair(&policy->rules[i], &policy->rules[j], err) < 0)
				return -1;
	return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct sp_policy *policy, const struct sp_rule *rule,
		    struct sp_error *err)
{
	int rc;

	if (rule->action == policy->default_action)
		return 0;
	rc = seccomp_rule_add_array(ctx, rule->action, rule->nr, rule->argc, rule->cmp);
	if (rc == -EEXIST)
		return sp_error_set(
		    err, -rc,
		    "seccomp policy: syscalls[%zu]: rule for \"%s\" conflicts with "
		    "an earlier rule of another action (on one of the filter's ABIs)",
		    rule->entry, rule->name);
	if (rc < 0)
		return sp_error_set(err, -rc, "seccomp policy: syscalls[%zu]: rule for \"%s\"",
				    rule->entry, rule->name);
	return 0;
}

static int setup_filter(scmp_filter_ctx ctx, const struct sp_policy *policy, struct sp_error *err)
{
	size_t i;
	int rc;

	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == -EINVAL) {
		/* kernels before 4.14 kill only the thread */
		log_warn("seccomp: no SECCOMP_RET_KILL_PROCESS here, foreign ABIs kill the thread");
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_THREAD);
	}
	if (rc < 0)
		return sp_error_set(err, -rc, "seccomp: bad-architecture action");
	/* A binary tree of syscall numbers instead of a linear list. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc < 0)
		return sp_error_set(err, -rc, "seccomp: optimization level");
	for (i = 0; i < policy->n_arches; i++) {
		rc = seccomp_arch_add(ctx, policy->arches[i]);
		if (rc < 0 && rc != -EEXIST)
			return sp_error_set(err, -rc, "seccomp: add architecture %#" PRIx32,
					    policy->arches[i]);
	}
	return 0;
}

/* Does the search in front of the program (seccomp_ranges.h) take RULE? A
 * syscall of the native ABI always allowed, where no compat ABI is filtered
 * (its calls would need a search of their own). */
static bool ranged(const struct sp_policy *policy, const struct sp_rule *rule)
{
	return policy->ranges && policy->n_arches == 0 && rule->action == SCMP_ACT_ALLOW &&
	       policy->default_action != SCMP_ACT_ALLOW && rule->argc == 0 && rule->nr >= 0;
}

static int add_ranges(const struct sp_policy *policy, struct sp_seccomp_program *prog,
		      struct sp_error *err)
{
	cleanup_free int *nrs = calloc(policy->n_rules + 1, sizeof(*nrs));
	size_t n = 0;

	if (nrs == NULL)
		return sp_error_set(err, ENOMEM, "seccomp: %zu rules", policy->n_rules);
	for (size_t i = 0; i < policy->n_rules; i++) {
		if (ranged(policy, &policy->rules[i]))
			nrs[n++] = policy->rules[i].nr;
	}
	return sp_seccomp_ranges_prepend(&prog->filter, &prog->len, seccomp_arch_native(), nrs, n,
					 err);
}

static int build_filter(const struct sp_policy *policy, scmp_filter_ctx *out, struct sp_error *err)
{
	cleanup_seccomp scmp_filter_ctx ctx = seccomp_init(policy->default_action);
	size_t i;

	if (ctx == NULL)
		return sp_error_set(err, EINVAL,
				    "seccomp policy: defaultAction %s is not supported here",
				    action_name(policy->default_action));
	if (setup_filter(ctx, policy, err) < 0)
		return -1;
	for (i = 0; i < policy->n_rules; i++)
		if (!ranged(policy, &policy->rules[i]) &&
		    add_rule(ctx, policy, &policy->rules[i], err) < 0)
			return -1;
	*out = steal_pointer(&ctx);
	return 0;
}

static int read_full_at(int fd, void *buf, size_t size)
{
	size_t done = 0;
	ssize_t n;

	while (done < size) {
		n = pread(fd, (char *)buf + done, size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* libseccomp 2.5 exports only to a file descriptor: go through a memfd. */
static int export_filter(scmp_filter_ctx ctx, struct sp_seccomp_program *prog, struct sp_error *err)
{
	cleanup_close int fd = memfd_create("sandpool-seccomp", MFD_CLOEXEC);
	cleanup_free struct sock_filter *filter = NULL;
	off_t size;
	size_t len;
	int rc;

	if (fd < 0)
		return sp_error_set(err, errno, "seccomp: memfd_create");
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return sp_error_set(err, -rc, "seccomp: export BPF");
	size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return sp_error_set(err, errno, "seccomp: size of the exported BPF");
	len = (size_t)size / sizeof(*filter);
	if (len == 0 || len > BPF_MAXINSNS || (size_t)size % sizeof(*filter) != 0)
		return sp_error_set(err, E2BIG, "seccomp: filter of %jd bytes (at most %d insns)",
				    (intmax_t)size, BPF_MAXINSNS);
	filter = malloc((size_t)size);
	if (filter == NULL)
		return sp_error_set(err, ENOMEM, "seccomp: filter of %jd bytes", (intmax_t)size);
	rc = read_full_at(fd, filter, (size_t)size);
	if (rc < 0)
		return sp_error_set(err, -rc, "seccomp: read back the exported BPF");
	prog->filter = steal_pointer(&filter);
	prog->len = (unsigned short)len;
	return 0;
}

static int compile_document(json_t *root, bool ranges, struct sp_seccomp_program *prog,
			    struct sp_error *err)
{
	cleanup_policy struct sp_policy policy = {.ranges = ranges};
	cleanup_seccomp scmp_filter_ctx ctx = NULL;

	if (parse_policy(root, &policy, err) < 0 || check_shadowing(&policy, err) < 0 ||
	    build_filter(&policy, &ctx, err) < 0 || export_filter(ctx, prog, err) < 0)
		return -1;
	if (add_ranges(&policy, prog, err) < 0) {
		sp_seccomp_program_free(prog);
		return -1;
	}
	return 0;
}

static int compile_text(const char *json_text, bool ranges, struct sp_seccomp_program *prog,
			struct sp_error *err)
{
	json_auto_t *root = NULL;
	json_error_t jerr;

	prog->filter = NULL;
	prog->len = 0;
	root = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return policy_error(err, "line %d column %d: %s", jerr.line, jerr.column,
				    jerr.text);
	return compile_document(root, ranges, prog, err);
}

int sp_seccomp_compile_json(const char *json_text, struct sp_seccomp_program *prog,
			    struct sp_error *err)
{
	return compile_text(json_text, true, prog, err);
}

int sp_seccomp_compile_json_plain(const char *json_text, struct sp_seccomp_program *prog,
				  struct sp_error *err)
{
	return compile_text(json_text, false, prog, err);
}

int sp_seccomp_compile_file(const char *path, struct sp_seccomp_program *prog, struct sp_error *err)
{
	json_auto_t *root = NULL;
	json_error_t jerr;

	prog->filter = NULL;
	prog->len = 0;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL && json_error_code(&jerr) == json_error_cannot_open_file)
		return sp_error_set(err, 0, "seccomp policy: %s", jerr.text);
	if (root == NULL)
		return sp_error_set(err, EINVAL, "seccomp policy: %s: line %d column %d: %s", path,
				    jerr.line, jerr.column, jerr.text);
	if (compile_document(root, true, prog, err) < 0)
		return sp_error_wrap(err, "%s", path);
	return 0;
}

void sp_seccomp_program_free(struct sp_seccomp_program *prog)
{
	if (prog == NULL)
		return;
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}

int sp_seccomp_apply_in_child(const struct sp_seccomp_program *prog, struct sp_error *err)
{
	struct sock_fprog fprog;

	if (prog == NULL || prog->filter == NULL || prog->len == 0)
		return sp_error_set(err, EINVAL, "seccomp: no program to load");
	fprog.len = prog->len;
	fprog.filter = prog->filter;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0)
		return 0;
	if (errno == ENOSYS && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) == 0)
		return 0;
	if (errno == EACCES)
		return sp_error_set(err, errno, "seccomp: load filter (no_new_privs not set?)");
	return sp_error_set(err, errno, "seccomp: load filter");
}
