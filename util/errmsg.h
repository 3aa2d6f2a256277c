/* errmsg: an -errno in words an admin can act on. What the kernel means
 * by an errno depends on who says it (nf_tables reading, an nf_tables
 * change, ctnetlink): each keeps its own table of meanings. What they all
 * mean alike is said here, once: EPERM or EACCES to a process that is not
 * root is the missing privilege. An errno a table does not name is
 * strerror's. */
#ifndef NFP_ERRMSG_H
#define NFP_ERRMSG_H

/* One meaning: a positive errno and its words. A table ends with { 0 }. */
struct errmsg {
	int err;
	const char *msg;
};

/* The words for -errno err: the needs-root message for EPERM and EACCES
 * when the process is not root, else table's (may be NULL), else
 * strerror's. */
const char *errmsg_get(const struct errmsg *table, int err);

#endif
