#include "util/errmsg.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

const char *errmsg_get(const struct errmsg *table, int err)
{
	int e = -err;

	if ((e == EPERM || e == EACCES) && geteuid() != 0)
		return "permission denied: nfpilot needs root (CAP_NET_ADMIN)";
	for (; table && table->err; table++)
		if (table->err == e)
			return table->msg;
	return strerror(e);
}
