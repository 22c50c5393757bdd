/* User namespace: which ids a cell maps and who the job runs as. */
#ifndef SANDPOOL_USERNS_H
#define SANDPOOL_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "sandbox/base/error.h"

/* How ids are mapped. AUTO: as root, an unused host range; rootless, the
 * user's /etc/subuid and /etc/subgid ranges through newuidmap/newgidmap when
 * there are any, else SINGLE. SINGLE: only the caller's own id, as 0. */
enum sp_idmap_request { SP_IDMAP_AUTO, SP_IDMAP_SINGLE };

enum sp_idmap_kind { SP_IDMAP_HOST_RANGE, SP_IDMAP_SUBID, SP_IDMAP_ONE_ID };

#define SP_IDMAP_RANGE_SIZE 65536
#define SP_JOB_ID	    1000 /* the job's uid and gid inside, when a range is mapped */

struct sp_idmap {
	enum sp_idmap_kind kind;
	uid_t outer_uid; /* host id that inside 0 maps to */
	gid_t outer_gid;
	uid_t sub_uid; /* SUBID: first subordinate id and how many */
	gid_t sub_gid;
	unsigned long sub_uid_count;
	unsigned long sub_gid_count;
	uid_t job_uid; /* inside the namespace */
	gid_t job_gid;
};

const char *sp_idmap_kind_to_string(enum sp_idmap_kind kind);

/* Decide the mapping for this process. SLOT picks the host range as root. */
int sp_idmap_plan(struct sp_idmap *map, enum sp_idmap_request request, unsigned slot,
		  struct sp_error *err);

/* Find NAME's (or UID's) first range in a subid file ("/etc/subuid"). Returns
 * 1 when found, 0 when not, -1 on a read error. */
int sp_subid_lookup(const char *file, const char *name, unsigned long id, unsigned long *start,
		    unsigned long *count, struct sp_error *err);

/* Write the maps of process PID (in a fresh user namespace) from outside. */
int sp_userns_from_parent(const struct sp_idmap *map, pid_t pid, struct sp_error *err);

/* In the new namespace, once the maps exist: become 0 inside. */
int sp_userns_in_child(const struct sp_idmap *map, struct sp_error *err);

#endif
