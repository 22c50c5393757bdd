#include "netns.h"

#include <errno.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

static int set_up(struct nl_sock *sock, struct sp_error *err)
{
	struct rtnl_link *lo = NULL;
	struct rtnl_link *change = NULL;
	int rc;

	rc = rtnl_link_get_kernel(sock, 0, "lo", &lo);
	if (rc < 0)
		return sp_error_set(err, 0, "netlink: find lo: %s", nl_geterror(rc));
	change = rtnl_link_alloc();
	if (change == NULL) {
		rtnl_link_put(lo);
		return sp_error_set(err, ENOMEM, "netlink: allocate link");
	}
	rtnl_link_set_flags(change, IFF_UP);
	rc = rtnl_link_change(sock, lo, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(lo);
	if (rc < 0)
		return sp_error_set(err, 0, "netlink: set lo up: %s", nl_geterror(rc));
	return 0;
}

int sp_netns_loopback_up_in_child(struct sp_error *err)
{
	struct nl_sock *sock = nl_socket_alloc();
	int rc;

	if (sock == NULL)
		return sp_error_set(err, ENOMEM, "netlink: allocate socket");
	rc = nl_connect(sock, NETLINK_ROUTE);
	if (rc < 0) {
		nl_socket_free(sock);
		return sp_error_set(err, 0, "netlink: connect: %s", nl_geterror(rc));
	}
	rc = set_up(sock, err);
	nl_socket_free(sock);
	return rc;
}
