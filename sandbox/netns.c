#include "netns.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"

/* One ioctl on a datagram socket of the new namespace. (libnl-route would do
 * it with a netlink round trip, but linked statically it drags in glibc's
 * NSS resolver for code sandpool never calls.) */
int sp_netns_loopback_up_in_child(struct sp_error *err)
{
	cleanup_close int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	if (sock < 0)
		return sp_error_set(err, errno, "socket for lo");
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name) - 1);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return sp_error_set(err, errno, "get the flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return sp_error_set(err, errno, "set lo up");
	return 0;
}
