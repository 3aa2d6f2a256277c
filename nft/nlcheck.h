/* nlcheck: the check that an nf_tables netlink message read from a file
 * (a restore point, a history entry: probation/snapfile.h) is whole before
 * libnftnl sees it. libnftnl 1.2.4 trusts what it parses: an attribute of
 * the wrong length makes it exit() ("nf_tables kernel ABI is broken"), a
 * missing one is a NULL it dereferences, an unended string runs on. Each
 * message is walked to its last attribute — every nest, expression, set
 * element, data and verdict — against tables of what libnftnl's parsers
 * accept and what nfpilot relies on being there (names, a string's NUL).
 * Anything else is refused with a reason. */
#ifndef NFP_NLCHECK_H
#define NFP_NLCHECK_H

#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;
struct nlattr;

/* Check one message of len bytes (its nlmsg_len must fit in them): a
 * table (NEWTABLE, DELTABLE, GETTABLE), chain (NEWCHAIN, DELCHAIN), set
 * (NEWSET), set elements (NEWSETELEM), object (NEWOBJ), flowtable
 * (NEWFLOWTABLE) or rule (NEWRULE, DELRULE). 0, or -EINVAL with err
 * saying what is wrong ("rule: expression 2 (payload): attribute 4 has
 * length 3, wants 4"). */
int nlcheck_msg(const struct nlmsghdr *nlh, size_t len, char *err, size_t errlen);

/* The top-level attribute `type` of a message nlcheck_msg accepted, or
 * NULL; and its string (the checks made it end in NUL), or NULL. */
const struct nlattr *nlcheck_attr(const struct nlmsghdr *nlh, uint16_t type);
const char *nlcheck_str(const struct nlmsghdr *nlh, uint16_t type);

#endif
