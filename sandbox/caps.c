#include "caps.h"

#include <errno.h>
#include <stdbool.h>
#include <grp.h>
#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#define LOCKED_SECUREBITS                                                                          \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |                           \
	 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |   \
	 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

static int lock_securebits(struct sp_error *err)
{
	if (prctl(PR_SET_SECUREBITS, LOCKED_SECUREBITS, 0, 0, 0) < 0)
		return sp_error_set(err, errno, "set securebits");
	return 0;
}

static int empty_bounding_set(struct sp_error *err)
{
	for (cap_value_t cap = 0; cap <= CAP_LAST_CAP || cap_valid(cap); cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return sp_error_set(err, errno, "drop capability %d from the bounding set",
					    (int)cap);
		if (cap > 63)
			break;
	}
	return 0;
}

static int switch_ids(uid_t uid, gid_t gid, struct sp_error *err)
{
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return sp_error_set(err, errno, "setgroups");
	if (setresgid(gid, gid, gid) < 0)
		return sp_error_set(err, errno, "setresgid %u", gid);
	if (setresuid(uid, uid, uid) < 0)
		return sp_error_set(err, errno, "setresuid %u", uid);
	return 0;
}

static int empty_process_sets(struct sp_error *err)
{
	cap_t none = cap_init();
	int rc = 0;

	if (none == NULL)
		return sp_error_set(err, errno, "cap_init");
	if (cap_set_proc(none) < 0)
		rc = sp_error_set(err, errno, "clear capability sets");
	cap_free(none);
	return rc;
}

int sp_caps_limit(struct sp_error *err)
{
	if (lock_securebits(err) < 0)
		return -1;
	if (empty_bounding_set(err) < 0)
		return -1;
	if (cap_reset_ambient() < 0)
		return sp_error_set(err, errno, "clear the ambient set");
	return 0;
}

/* Whether this process already holds what sp_caps_limit sets: the locked
 * securebits and an empty bounding set (two reads, not forty writes). */
static bool limited(void)
{
	int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);

	return bits >= 0 && ((unsigned)bits & LOCKED_SECUREBITS) == LOCKED_SECUREBITS &&
	       prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) == 0 &&
	       prctl(PR_CAPBSET_READ, CAP_LAST_CAP, 0, 0, 0) == 0;
}

int sp_caps_drop_in_child(uid_t uid, gid_t gid, struct sp_error *err)
{
	if (!limited() && sp_caps_limit(err) < 0)
		return -1;
	if (switch_ids(uid, gid, err) < 0)
		return -1;
	return empty_process_sets(err);
}
